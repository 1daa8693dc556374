/* SPDX-License-Identifier: Apache-2.0 */
/* The plan as JSON: what `executor --print-plan` prints and what the frontend tests compare.
 *
 * Schema "lading.plan/v1" (stable: fields are only ever added; every field listed is always
 * present, null when it does not apply). Values are expanded as far as possible without the
 * base image: the base image's ENV is not known at plan time, so a reference to a variable the
 * Dockerfile (ARG, ENV), the build arguments or the platform ARGs do not set stays as written
 * ("$FOO", "${FOO:-x}").
 *
 * {
 *   "schema": "lading.plan/v1",
 *   "dockerfile": "Dockerfile",            file name as given
 *   "syntax": "docker/dockerfile:1" | null, the # syntax= directive (not acted upon)
 *   "escape": "\\" | "`",
 *   "target": 1,                            index of the target stage
 *   "target_platform": "linux/amd64",       normalized
 *   "build_platform": "linux/amd64",
 *   "build_args": [{"name": "V", "value": "1"}],   as given, bare names resolved
 *   "meta_args": [{"name": "V", "value": "1" | null}],  ARGs before the first FROM, values
 *                                           taken (null: unset)
 *   "needed_stages": [0, 1],                stages the target needs, itself included
 *   "stages": [STAGE...],
 *   "warnings": ["..."]                     parse and plan warnings, "line N: message" when
 *                                           about a line
 * }
 * STAGE = {
 *   "index": 0, "name": "build" | null, "line": 3,
 *   "base": "golang:1.22",                  FROM expanded with the global ARGs
 *   "base_kind": "image" | "stage" | "scratch",
 *   "base_stage": 0 | null,
 *   "platform": "linux/arm64" | null,       FROM --platform, expanded and normalized
 *   "needed": true,
 *   "depends_on": [{"via": "from" | "copy" | "mount", "stage": 0 | null, "image": "x" | null,
 *                   "line": 7}],
 *   "instructions": [INSTRUCTION...]       FROM excluded (see the stage's fields)
 * }
 * INSTRUCTION = {
 *   "kind": "RUN", "line": 4, "end_line": 5, "last_line": 9 (heredoc bodies included),
 *   "original": "RUN --mount=type=cache,target=/x make",  continuation lines joined
 *   "flags": ["--mount=type=cache,target=/x"],            as written
 *   ...fields of the kind:
 * }
 *   RUN:         "form": "shell" | "exec", "command": ["make"], "mounts": [MOUNT...],
 *                "network": "default" | "none" | "host", "security": "sandbox" | "insecure",
 *                "devices": [{"name": "x", "required": false}], "heredocs": [HEREDOC...]
 *   CMD, ENTRYPOINT: "form", "command"
 *   SHELL:       "command": ["/bin/bash", "-c"]
 *   ENV, LABEL:  "pairs": [{"key": "K", "value": "v"}]
 *   ARG:         "args": [{"name": "V", "default": "raw" | null, "value": "taken" | null}]
 *   COPY, ADD:   "sources": [...], "dest": "/app/", "inline": [{"name", "content",
 *                "expand"}], "from": "build" | null, "from_stage": 0 | null, "chown",
 *                "chmod", "checksum" (strings or null), "link": false, "parents": false,
 *                "excludes": [...], "keep_git_dir": bool | null, "unpack": bool | null,
 *                "heredocs": [HEREDOC...]
 *   EXPOSE:      "ports": ["80", "53/udp"]  (expanded words)
 *   VOLUME:      "paths": [...]
 *   USER: "user", WORKDIR: "path", STOPSIGNAL: "signal", MAINTAINER: "maintainer"
 *   HEALTHCHECK: "test": ["CMD-SHELL", "curl -f x"], "interval_ns", "timeout_ns",
 *                "start_period_ns", "start_interval_ns", "retries" (numbers, 0: default)
 *   ONBUILD:     "expression": "RUN make", "trigger": INSTRUCTION (unexpanded, no lines)
 * MOUNT = {"type": "cache", "target": "/x" | null, "source", "from", "id", "env" (string or
 *          null), "readonly": false, "required": false, "sharing": "shared" | null,
 *          "mode": "0755" | null (octal), "uid": 0 | null, "gid": 0 | null, "size": 0 | null}
 * HEREDOC = {"name": "EOF", "content": "...", "expand": true, "chomp": false, "fd": 0}
 */
#pragma once

struct plan;

/* The plan as indented JSON text, with a final newline. Caller frees. Aborts only on OOM. */
char *plan_to_json(const struct plan *p);
