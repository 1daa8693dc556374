# syntax=docker/dockerfile:1
# The release image: lading's static executor on `scratch`, laid out as Kaniko's executor image
# (/kaniko/executor, /kaniko/ssl/certs, /kaniko/.docker, the same ENV, WORKDIR and ENTRYPOINT),
# so that switching from Kaniko is a change of image name.
#
#   docker build -t registry.example.com/lading/executor:latest .
#   docker build --target debug -t registry.example.com/lading/executor:debug .
#
# The `debug` target adds a busybox shell under /busybox (on PATH, /bin/sh links to it), as
# Kaniko's :debug image does, for CI systems that run their job script in the image (GitLab CI).
#
# Built by lading itself (tests/integration/release/ does so), give the builder a home other than
# /kaniko: its own /kaniko is on its ignore list, so what this file copies to /kaniko would not
# reach the image.
#
#   executor --kaniko-dir /lading --context . --destination registry.example.com/lading/executor

# The static executor, built by the same script as in CI (scripts/static/README.md): Debian's
# source packages of its dependencies, compiled with musl. The dependencies go to a cache mount,
# so a rebuild after a source change only compiles lading (with BuildKit, whose cache mounts
# outlive the build).
FROM debian:bookworm AS build
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ca-certificates
# The dependencies first, from the two files that decide them, so that a change elsewhere in the
# source does not rebuild them (nor reinstall the toolchain).
COPY scripts/build-static.sh /src/scripts/build-static.sh
COPY scripts/static/ /src/scripts/static/
RUN --mount=type=cache,target=/var/cache/lading-static \
    /src/scripts/build-static.sh --deps-only
COPY . /src
# nsswitch.conf as in Kaniko's image: the executor (musl) reads /etc/hosts and /etc/resolv.conf
# itself, but tools copied next to it may use glibc's resolver, which then tries files first.
COPY <<'EOF' /out/etc/nsswitch.conf
# /etc/nsswitch.conf of lading's executor image: local files first, then DNS for host names,
# so that /etc/hosts (a Kubernetes pod's hostAliases) takes effect.
passwd:         files
group:          files
shadow:         files
gshadow:        files
hosts:          files dns
networks:       files
protocols:      db files
services:       db files
ethers:         db files
rpc:            db files
EOF
# /kaniko is writable by everyone (0777), as in Kaniko's image, so that the executor also runs
# as a non-root user.
RUN --mount=type=cache,target=/var/cache/lading-static \
    exe=$(/src/scripts/build-static.sh) \
 && mkdir -p /out/kaniko/ssl/certs /out/kaniko/.docker \
 && install -m 0755 "$exe" /out/kaniko/executor \
 && install -m 0644 /etc/ssl/certs/ca-certificates.crt /out/kaniko/ssl/certs/ca-certificates.crt \
 && chmod 0777 /out/kaniko \
 && /out/kaniko/executor version

# busybox for the debug image (Debian's static build), with a symlink per applet.
FROM debian:bookworm AS busybox
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends busybox-static \
 && mkdir -p /out/busybox /out/bin \
 && cp /bin/busybox /out/busybox/busybox \
 && /out/busybox/busybox --install -s /out/busybox \
 && for f in /out/busybox/*; do \
        [ ! -L "$f" ] || ln -sf busybox "$f"; \
    done \
 && ln -s /busybox/sh /out/bin/sh

FROM scratch AS release
COPY --from=build /out/ /
ENV HOME=/root \
    USER=root \
    PATH=/usr/local/bin:/kaniko \
    SSL_CERT_DIR=/kaniko/ssl/certs \
    DOCKER_CONFIG=/kaniko/.docker/
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]

FROM release AS debug
COPY --from=busybox /out/ /
ENV PATH=/usr/local/bin:/kaniko:/busybox
# A volume, so that the executor keeps /busybox when it unpacks a base image over "/": the
# container runtime mounts it, and mount points are on the executor's ignore list.
VOLUME /busybox

# The default target: the release image.
FROM release
