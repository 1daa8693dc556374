/* SPDX-License-Identifier: Apache-2.0 */
#include "executor/image_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strv.h"
#include "tap.h"

/* A Docker-built base config, with the fields Docker writes that BuildKit drops. */
static const char base[] =
        "{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"User\":\"\",\"AttachStdin\":"
        "false,"
        "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
        "\"Cmd\":[\"sh\"],\"Image\":\"sha256:x\",\"Volumes\":null,\"WorkingDir\":\"\","
        "\"Entrypoint\":null,\"OnBuild\":[\"RUN echo hi\"],\"Labels\":{\"b\":\"2\",\"a\":\"1\"},"
        "\"ExposedPorts\":{\"80/tcp\":{}},\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"true\"],"
        "\"Interval\":30000000000,\"Retries\":3}},"
        "\"container\":\"abc\",\"container_config\":{\"Cmd\":[\"/bin/sh\"]},"
        "\"created\":\"2024-01-01T00:00:00Z\",\"docker_version\":\"20.10\","
        "\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"/bin/sh -c #(nop) ADD "
        "file:1 in / \"},{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"/bin/sh -c "
        "#(nop)  CMD [\\\"sh\\\"]\",\"empty_layer\":true}],\"os\":\"linux\","
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"]}}";

static void parse_fails(const char *doc, const char *want, const char *name)
{
        struct image_config *c = NULL;
        struct lerr *err = NULL;
        int r = image_config_parse(doc, strlen(doc), &c, &err);
        ok(r == -EBADMSG && c == NULL, "%s: refused", name);
        is_str(lerr_message(err), want, "%s: message", name);
        lerr_free(err);
}

int main(void)
{
        struct lerr *err = NULL;
        _cleanup_(image_config_freep) struct image_config *c = NULL;

        is_int(image_config_parse(base, strlen(base), &c, &err), 0, "parse a Docker config");
        is_str(c->architecture, "amd64", "architecture");
        is_str(c->cmd[0], "sh", "Cmd");
        ok(c->entrypoint == NULL, "null Entrypoint stays null");
        is_str(image_config_getenv(c, "PATH"),
               "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "getenv");
        is_int(c->n_labels, 2, "labels");
        is_str(c->labels[0].key, "a", "labels sorted by key");
        is_int(c->healthcheck->interval_ns, 30000000000LL, "healthcheck interval");
        is_int(c->healthcheck->retries, 3, "healthcheck retries");
        is_int(c->n_history, 2, "history");
        is_int(image_config_layer_history_count(c), 1, "one non-empty history entry");
        is_str(c->onbuild[0], "RUN echo hi", "OnBuild");

        image_config_setenv(c, "PATH", "/bin");
        image_config_setenv(c, "A", "x=y");
        is_str(c->env[0], "PATH=/bin", "setenv replaces in place");
        is_str(c->env[1], "A=x=y", "setenv appends");
        is_int(image_config_add_port(c, "53/UDP"), 0, "port with protocol");
        is_int(image_config_add_port(c, "8080"), 0, "port without protocol");
        is_int(image_config_add_port(c, "80/tcp"), 0, "duplicate port");
        is_int(image_config_add_port(c, "http"), -EINVAL, "named port refused");
        is_int(image_config_add_port(c, "80/icmp"), -EINVAL, "unknown protocol refused");
        is_int(strv_length(c->exposed_ports), 3, "ports are a set");
        is_str(c->exposed_ports[0], "53/udp", "protocol lower-cased, sorted");
        image_config_add_volume(c, "/data");
        image_config_add_volume(c, "/data");
        is_int(strv_length(c->volumes), 1, "volumes are a set");
        char *ep[] = {"/entry", NULL};
        image_config_set_entrypoint(c, ep, false);
        ok(c->cmd == NULL, "ENTRYPOINT resets an inherited CMD");
        char *cmd[] = {"--flag", NULL};
        image_config_set_cmd(c, cmd);
        image_config_set_entrypoint(c, ep, true);
        is_str(c->cmd[0], "--flag", "ENTRYPOINT keeps a CMD set in the same stage");
        image_config_clear_onbuild(c);
        image_config_set_label(c, "a", "3");
        image_config_set_label(c, "0", "z");
        is_str(c->labels[0].key, "0", "new label inserted in order");
        is_str(c->labels[1].value, "3", "label replaced");
        image_config_add_layer(
                c, "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
        image_config_add_history(c, "2025-01-01T00:00:00Z", "RUN /bin/sh -c true # buildkit",
                                 "buildkit.dockerfile.v0", false);
        image_config_set_string(&c->created, "2025-01-01T00:00:00Z");
        struct healthcheck none = {.test = (char *[]){"NONE", NULL}};
        image_config_set_healthcheck(c, &none);

        _cleanup_free_ char *json = image_config_to_json(c);
        is_str(json,
               "{\"created\":\"2025-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
               "\"config\":{\"ExposedPorts\":{\"53/udp\":{},\"80/tcp\":{},\"8080/tcp\":{}},"
               "\"Env\":[\"PATH=/bin\",\"A=x=y\"],\"Entrypoint\":[\"/entry\"],"
               "\"Cmd\":[\"--flag\"],\"Volumes\":{\"/data\":{}},"
               "\"Labels\":{\"0\":\"z\",\"a\":\"3\",\"b\":\"2\"},"
               "\"Healthcheck\":{\"Test\":[\"NONE\"]}},"
               "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"sha256:"
               "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef\"]},"
               "\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"/bin/sh -c "
               "#(nop) ADD file:1 in / \"},{\"created\":\"2024-01-01T00:00:00Z\","
               "\"created_by\":\"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\",\"empty_layer\":true},"
               "{\"created\":\"2025-01-01T00:00:00Z\",\"created_by\":\"RUN /bin/sh -c true # "
               "buildkit\",\"comment\":\"buildkit.dockerfile.v0\"}]}",
               "serialised with fixed order, omitempty, Docker-only fields dropped");

        /* a round trip gives the same bytes */
        _cleanup_(image_config_freep) struct image_config *again = NULL;
        is_int(image_config_parse(json, strlen(json), &again, &err), 0, "reparse");
        _cleanup_free_ char *json2 = image_config_to_json(again);
        is_str(json2, json, "round trip is stable");
        _cleanup_(image_config_freep) struct image_config *copy = image_config_copy(again);
        _cleanup_free_ char *json3 = image_config_to_json(copy);
        is_str(json3, json, "copy is identical");

        _cleanup_(image_config_freep) struct image_config *scratch =
                image_config_new("linux", "arm", "v7");
        _cleanup_free_ char *sj = image_config_to_json(scratch);
        is_str(sj,
               "{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\",\"config\":{},"
               "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
               "scratch config");

        parse_fails("[]", "image config is not a JSON object", "array");
        parse_fails("{\"config\":{\"Env\":\"A=b\"}}",
                    "parse image config: field 'Env' is not an array", "Env as string");
        parse_fails("{\"config\":{\"Cmd\":[1]}}",
                    "parse image config: field 'Cmd' holds a non-string", "Cmd with a number");
        parse_fails("{\"rootfs\":{\"diff_ids\":[\"sha256:abc\"]}}",
                    "parse image config: bad diff_id 'sha256:abc'", "bad diff_id");
        parse_fails("{\"os\":", "parse image config: invalid JSON near byte 5", "truncated");
        return tap_done();
}
