/* SPDX-License-Identifier: Apache-2.0 */
/* The build context and the Dockerfile, as Kaniko finds them: a local directory (a plain path
 * or dir://), a tar.gz (tar://path, tar://stdin) or an https:// tar.gz URL unpacked under
 * KANIKO_DIR/buildcontext (also s3:// and gs:// objects: context_s3.h, context_gcs.h), or a
 * git repository (git://HOST/PATH[#REF[#COMMIT]], fetched over https by git_fetch.h) checked
 * out there, then --context-sub-path. Other kinds (Azure) fail with a message saying so. The
 * Dockerfile is read as given, else relative to the context, or downloaded when it is an http(s)
 * URL. */
#pragma once

#include <stddef.h>

struct lerr;
struct options;

struct build_context {
        char *dir;             /* the context directory (absolute) */
        int fd;                /* O_DIRECTORY fd of dir */
        char *dockerfile_path; /* where the Dockerfile was read (for .dockerignore lookup) */
        char *dockerfile_name; /* as the user named it, for messages ("Dockerfile:3: ...") */
        char *dockerfile;      /* its contents, NUL-terminated */
        size_t dockerfile_len;
};

/* Reads the Dockerfile named by o (as given, else under context_dir when that is not NULL;
 * a URL is downloaded into download_dir) into c's dockerfile fields. */
int context_read_dockerfile(const struct options *o, const char *context_dir,
                            const char *download_dir, struct build_context *c, struct lerr **err);

/* kaniko_dir is where remote contexts are unpacked. */
int context_open(const struct options *o, const char *kaniko_dir, struct build_context *ret,
                 struct lerr **err);
void context_done(struct build_context *c);
