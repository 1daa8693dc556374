#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the built executor: --help against the flag table and Kaniko's flag list, --version,
exit statuses and the exact error lines. Prints TAP.

usage: test_cli.py EXECUTOR CLI_FLAGS_C"""
import json
import os
import re
import subprocess
import sys

executor, table_source = sys.argv[1], sys.argv[2]
n = failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print(f"{'ok' if cond else 'not ok'} {n} - {name}")
    if not cond and detail:
        for line in str(detail).splitlines():
            print(f"#   {line}")
    sys.stdout.flush()


def run(*args, env=None, stdout=subprocess.PIPE):
    e = {k: v for k, v in os.environ.items() if not k.startswith("KANIKO_")}
    e.update(env or {})
    return subprocess.run([executor, *args], stdout=stdout, stderr=subprocess.PIPE, env=e,
                          text=True, timeout=60)


# Kaniko v1.24.0's executor flags (cmd/executor/cmd/root.go), with their short forms
KANIKO = {
    "dockerfile": "f", "context": "c", "context-sub-path": "", "bucket": "b",
    "destination": "d", "snapshot-mode": "", "custom-platform": "", "build-arg": "",
    "insecure": "", "skip-tls-verify": "", "insecure-pull": "", "skip-tls-verify-pull": "",
    "insecure-registry": "", "skip-tls-verify-registry": "", "registry-certificate": "",
    "registry-client-cert": "", "registry-mirror": "", "registry-map": "",
    "skip-default-registry-fallback": "", "push-retry": "",
    "push-ignore-immutable-tag-errors": "", "image-fs-extract-retry": "",
    "image-download-retry": "", "kaniko-dir": "", "tar-path": "", "single-snapshot": "",
    "reproducible": "", "target": "", "no-push": "", "no-push-cache": "", "cache-repo": "",
    "cache-dir": "", "digest-file": "", "image-name-with-digest-file": "",
    "image-name-tag-with-digest-file": "", "oci-layout-path": "", "compression": "",
    "compression-level": "", "cache": "", "compressed-caching": "", "cleanup": "",
    "cache-ttl": "", "label": "", "skip-unused-stages": "", "use-new-run": "", "git": "",
    "cache-copy-layers": "", "cache-run-layers": "", "ignore-var-run": "", "ignore-path": "",
    "force-build-metadata": "", "skip-push-permission-check": "", "verbosity": "v",
    "log-format": "", "log-timestamp": "", "force": "",
    # deprecated aliases and the hidden flag from a vendored library
    "snapshotMode": "", "customPlatform": "", "tarPath": "", "whitelist-var-run": "",
    "azure-container-registry-config": "",
}
HIDDEN = {"bucket", "azure-container-registry-config"}
LADING = {"sandbox", "print-plan", "secret", "annotation", "help", "version"}

# the table, read from its source: one entry per {.name = "...", ...}
source = open(table_source).read()
table = {}
for entry in re.finditer(r'\{\s*\.name = "([^"]+)"(.*?)\}', source, re.S):
    name, rest = entry.group(1), entry.group(2)
    short = re.search(r"\.short_name = '(.)'", rest)
    group = re.search(r"\.group = (CLI_GROUP_\w+)", rest)
    table[name] = (short.group(1) if short else "", group.group(1) if group else "")
ok(len(table) == len(KANIKO) + len(LADING), f"the table has {len(table)} flags",
   sorted(set(table) ^ (set(KANIKO) | LADING)))
for name, short in KANIKO.items():
    ok(name in table, f"Kaniko's --{name} is in the table")
    ok(table.get(name, ("?",))[0] == short, f"--{name} has Kaniko's short form '{short}'")
for name in HIDDEN:
    ok(table.get(name, ("", ""))[1] == "CLI_GROUP_HIDDEN", f"--{name} is hidden, as in Kaniko")

# --help, -h and the help command
helps = [run("--help"), run("-h"), run("help")]
for args, r in zip(["--help", "-h", "help"], helps):
    ok(r.returncode == 0, f"{args} exits 0", r.stderr)
    ok(r.stderr == "", f"{args} writes nothing to stderr", r.stderr)
    ok(r.stdout == helps[0].stdout, f"{args} prints the same help")
text = helps[0].stdout
for name, (short, group) in table.items():
    shown = re.search(rf"(^|\s)--{re.escape(name)}(\s|$)", text, re.M) is not None
    if group == "CLI_GROUP_HIDDEN":
        ok(not shown, f"--help hides --{name}")
    else:
        ok(shown, f"--help shows --{name}")
    if short and group != "CLI_GROUP_HIDDEN":
        ok(f"-{short}, --{name}" in text, f"--help shows -{short}, --{name}")
for title in ["Build input", "Outputs", "Layers and snapshots", "Cache", "Registries",
              "Runtime", "lading only", "Deprecated aliases", "Environment"]:
    ok(f"\n{title}:\n" in text, f"--help has the group '{title}'")
ok("(default: Dockerfile)" in text and "(default: 336h)" in text, "--help shows defaults")
ok(max(len(line) for line in text.splitlines()) <= 100, "--help fits 100 columns")
m = re.search(r"--git KEY=VALUE.*?(?=\n      --|\n  -)", text, re.S)
ok(m and "[not implemented yet]" not in m.group(0),
   "--help does not mark --git", m and m.group(0))
for name in ("cache", "cache-repo", "cache-dir", "cache-ttl", "cache-copy-layers",
             "cache-run-layers", "no-push-cache"):
    m = re.search(rf"^  (?:-., |    )--{name}\s.*?(?=\n      --|\n  -)", text, re.S | re.M)
    ok(m and "[not implemented yet]" not in m.group(0), f"--{name} is not marked",
       m and m.group(0))
m = re.search(r"--print-plan.*?(?=\n      --|\n  -)", text, re.S)
ok(m and "[not implemented yet]" not in m.group(0), "--print-plan is not marked")

# --version and the version command
version_re = r"lading executor \d+\.\d+\.\d+ \(([0-9a-f]{7,40}|unknown)\)\n"
for args in (["--version"], ["version"], ["--no-push", "version"]):
    r = run(*args)
    ok(r.returncode == 0 and r.stderr == "", f"{' '.join(args)} exits 0 quietly", r.stderr)
    ok(re.fullmatch(version_re, r.stdout), f"{' '.join(args)} prints the version",
       repr(r.stdout))

NOT_BUILT = "is accepted for Kaniko compatibility but not implemented yet"
# a build outside a container (not PID 1, not /kaniko/executor) is refused: never on this root
REFUSED = ("refusing to build on '/' of this machine: the executor is not PID 1 and does not "
           "run as '/kaniko/executor', so '/' may not be a throwaway container (a build "
           "replaces the whole root filesystem); use --sandbox DIR to build in a directory, or "
           "--force if '/' is a disposable container")
errors = [
    ([], {}, "--destination is required (or use --no-push to build without pushing)"),
    (["--no-push"], {}, REFUSED),
    (["-d", "reg.example/app"], {}, REFUSED),
    (["--no-push", "--git", "branch=main"], {}, REFUSED),
    (["--no-push", "--cache", "--cache-repo", "reg.example/cache", "--cache-ttl=1h",
      "--cache-copy-layers", "--cache-run-layers=false", "--no-push-cache",
      "--cache-dir=/tmp"], {}, REFUSED),
    (["--destinaton=reg.example/app"], {},
     "unknown flag '--destinaton' (did you mean --destination?)"),
    (["--no-push", "--frobnicate"], {}, "unknown flag '--frobnicate'"),
    (["-dockerfile", "Dockerfile"], {}, "unknown flag '-dockerfile' (did you mean --dockerfile?)"),
    (["--no-push", "--dockerfile"], {}, "flag --dockerfile needs a value"),
    (["--no-push", "-f"], {}, "flag -f needs a value"),
    (["--no-push", "false"], {},
     "unexpected argument 'false' (a boolean flag takes its value after '=': --no-push=false)"),
    (["--no-push", "--push-retry=abc"], {},
     "invalid value 'abc' for --push-retry: expected an integer"),
    (["--no-push", "--snapshot-mode", "fast"], {},
     "invalid value 'fast' for --snapshot-mode: expected full, redo or time"),
    (["--no-push", "--compression=xz"], {},
     "invalid value 'xz' for --compression: expected gzip or zstd"),
    (["--no-push", "--cache-ttl=2w"], {},
     "invalid value '2w' for --cache-ttl: expected a duration like 336h, 90m or 1h30m"),
    (["--no-push", "-v", "loud"], {},
     "invalid value 'loud' for --verbosity: expected trace, debug, info, warn, error, fatal or "
     "panic"),
    (["--no-push", "--log-format=xml"], {},
     "invalid value 'xml' for --log-format: expected text, color or json"),
    (["--no-push", "--custom-platform=linux"], {},
     "invalid value 'linux' for --custom-platform: expected OS/ARCH[/VARIANT], like linux/amd64 "
     "or linux/arm/v7"),
    (["--no-push", "--cache"], {}, "--cache with --no-push needs --cache-repo"),
    (["--no-push", "--image-name-with-digest-file=/tmp/x"], {},
     "--image-name-with-digest-file needs --destination"),
    ([], {"KANIKO_NO_PUSH": "maybe"},
     "invalid value 'maybe' in KANIKO_NO_PUSH: expected true or false"),
    ([], {"KANIKO_NO_PUSH": "true"}, REFUSED),
    (["--no-push"], {"KANIKO_REGISTRY_MIRROR": "mirror.local"}, REFUSED),
    # gs:// and --bucket pass the flag checks and reach the build
    (["--no-push", "-c", "gs://bucket/ctx.tar.gz"], {}, REFUSED),
    (["--no-push", "-b", "bucket"], {}, REFUSED),
    (["--no-push", "--sandbox", "/tmp/root", "-c", "/nonexistent-lading-ctx"], {},
     "--sandbox: make host path '/nonexistent-lading-ctx' visible in the sandbox: No such file "
     "or directory"),
    (["completion", "tcsh"], {}, "unknown shell 'tcsh' for 'executor completion': bash, zsh, "
     "fish or powershell"),
    (["verison"], {}, "unexpected argument 'verison' (did you mean version?)"),
]
for args, env, want in errors:
    r = run(*args, env=env)
    label = " ".join(f"{k}={v}" for k, v in env.items()) + " executor " + " ".join(args)
    ok(r.returncode == 1, f"{label}: exit status 1", r.returncode)
    ok(r.stderr == f"error: {want}\n", f"{label}: message", r.stderr)
    ok(r.stdout == "", f"{label}: nothing on stdout", r.stdout)

# flags not built yet pass when they say what lading does anyway
r = run("--no-push", "--cache=false", "--cache-dir=/cache", "--compressed-caching=false",
        "--push-retry", "0", "--snapshot-mode=full")
ok(r.stderr == f"error: {REFUSED}\n", "flags not built, given their defaults, pass", r.stderr)

# --print-plan never needs --destination; non-plan flags do not matter to it
missing = "/nonexistent-lading-test/Dockerfile"
r = run("--print-plan", "-f", missing, "-d", "reg.example/app", "--cache-repo=x")
ok(r.returncode == 1 and r.stdout == "", "--print-plan of a missing Dockerfile fails",
   r.stderr)
ok(re.fullmatch(r"error: [^\n]+\n", r.stderr) and "--destination" not in r.stderr,
   "--print-plan: one error line, and not about --destination", r.stderr)
r = run("--print-plan", "-f", missing, "--git=branch=main")
ok(r.returncode == 1 and "--git" not in r.stderr and missing in r.stderr,
   "--print-plan with --git: --git is accepted", r.stderr)

# logging is set up from the flags before anything is logged
r = run("--print-plan", "-f", missing, "--snapshotMode=redo", "--log-format=text")
ok(r.stderr.startswith("warn: --snapshotMode is deprecated, use --snapshot-mode\nerror: "),
   "deprecated alias: a warning, then the error", r.stderr)
r = run("--print-plan", "-f", missing, "--snapshotMode=redo", "--log-format=json")
first = r.stderr.splitlines()[0] if r.stderr else ""
try:
    record = json.loads(first)
except ValueError:
    record = {}
ok(record == {"level": "warn", "msg": "--snapshotMode is deprecated, use --snapshot-mode"},
   "--log-format=json logs JSON", first)
r = run("--print-plan", "-f", missing, "--snapshotMode=redo", "-v", "error")
ok("deprecated" not in r.stderr, "-v error hides the warning", r.stderr)
r = run("--print-plan", "-f", missing, "--snapshotMode=redo", "--log-timestamp",
        "--log-format=text")
ok(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn: --snapshotMode", r.stderr),
   "--log-timestamp", r.stderr)

# help that cannot be written is an error, not a success
with open("/dev/full", "w") as full:
    r = run("--help", stdout=full)
ok(r.returncode == 1 and r.stderr == "error: write to standard output: No space left on device\n",
   "--help to a full disk fails", r.stderr)

print(f"1..{n}")
sys.exit(1 if failed else 0)
