#!/usr/bin/env bash
# The README's demo: on a fresh Debian/Ubuntu machine, as root, installs what it needs, builds
# lading, starts a registry on 127.0.0.1, makes a base image (busybox, built by lading from a
# root filesystem tarball), builds the examples/ Dockerfiles in sandbox mode, pushes them,
# pulls them back with skopeo and runs each image's command in a chroot.
#
# Environment: SKIP_APT=1 skips apt-get; LADING_DEMO_KEEP=1 keeps the work directory.
set -Eeuo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "${SKIP_APT:-0}" != 1 ]; then
        say "installing packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends meson ninja-build pkg-config gcc \
                libcurl4-openssl-dev libarchive-dev zlib1g-dev libssl-dev libcjson-dev libzstd-dev \
                docker-registry skopeo umoci busybox-static python3 curl ca-certificates
fi

say "building lading"
[ -f build-demo/build.ninja ] || meson setup build-demo -Dtests=false >/dev/null
ninja -C build-demo executor/executor
exe=$top/build-demo/executor/executor

work=$(mktemp -d /tmp/lading-demo.XXXXXX)
regpid=
cleanup() {
        [ -n "$regpid" ] && kill "$regpid" 2>/dev/null && wait "$regpid" 2>/dev/null
        [ "${LADING_DEMO_KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

say "starting a registry on 127.0.0.1"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<CONF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry-data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
CONF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
regpid=$!
reg=127.0.0.1:$port
for _ in $(seq 100); do curl -fsS "http://$reg/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://$reg/v2/" >/dev/null
echo "registry at $reg"

say "making the base image's root filesystem (busybox)"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,tmp,root,usr/local/bin}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
        [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"
mkdir -p "$work/base-ctx"
cp examples/base/Dockerfile "$work/base-ctx/"
tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -czf "$work/base-ctx/rootfs.tar.gz" .

build() { # NAME CONTEXT [flags...]
        local name=$1 ctx=$2
        shift 2
        say "building $name"
        "$exe" --sandbox "$work/sandbox" --context "$ctx" --destination "$reg/demo/$name:latest" \
                --insecure --insecure-pull --digest-file "$work/$name.digest" "$@"
}
build base "$work/base-ctx"
build hello examples/hello --build-arg "BASE=$reg/demo/base:latest"
build webapp examples/webapp --build-arg "BASE=$reg/demo/base:latest"

run_image() { # NAME
        local name=$1
        say "pulling $name with skopeo and running it in a chroot"
        skopeo copy -q --src-tls-verify=false "docker://$reg/demo/$name:latest" "oci:$work/oci:$name"
        umoci unpack --image "$work/oci:$name" "$work/bundle-$name" >/dev/null
        skopeo inspect --tls-verify=false --config "docker://$reg/demo/$name:latest" >"$work/$name.json"
        # the image's own Entrypoint + Cmd, Env, WorkingDir and User
        mapfile -t argv < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]
for a in (c.get("Entrypoint") or []) + (c.get("Cmd") or []): print(a)' "$work/$name.json")
        mapfile -t envv < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["config"].get("Env") or []))' "$work/$name.json")
        local wd user
        wd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"].get("WorkingDir") or "/")' "$work/$name.json")
        user=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"].get("User") or "0")' "$work/$name.json")
        local uid gid
        uid=$(awk -F: -v u="$user" '$1 == u || $3 == u {print $3; exit}' "$work/bundle-$name/rootfs/etc/passwd")
        gid=$(awk -F: -v u="$user" '$1 == u || $3 == u {print $4; exit}' "$work/bundle-$name/rootfs/etc/passwd")
        echo "digest $(cat "$work/$name.digest"): ${argv[*]} (user ${user}, in ${wd})"
        env -i "${envv[@]}" "$(command -v chroot)" --userspec="${uid:-0}:${gid:-0}" "$work/bundle-$name/rootfs" \
                /bin/sh -c 'cd "$0" && exec "$@"' "$wd" "${argv[@]}"
}
run_image hello
run_image webapp
say "done: three images built, pushed, pulled and run"
