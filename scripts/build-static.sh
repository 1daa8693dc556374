#!/usr/bin/env bash
# Builds a fully static `executor` with musl (no ELF interpreter, no NSS) and prints its
# absolute path as the last line of output. One command for a developer, CI and the Dockerfile's
# Debian build stage:
#
#   1. installs what it needs with apt-get (as root; SKIP_APT=1 skips this),
#   2. fetches Debian's source packages of zlib, zstd, OpenSSL, curl, libarchive and cJSON with
#      `apt-get source`, using deb-src entries derived from the machine's own apt sources,
#   3. builds them with musl-gcc into a cache outside the source tree, keyed by the source
#      versions and the recipes (scripts/static/deps.sh), so that a second run takes seconds,
#   4. configures lading with meson (-Dstatic=true, musl-gcc, the cache's pkg-config dir),
#      compiles, strips, checks that the result is static, and prints its path.
#
# Usage: scripts/build-static.sh [--builddir DIR] [--cache DIR] [--jobs N] [--deps-only]
#
# Environment:
#   LADING_STATIC_BUILDDIR  meson build directory (default: <source>/build-static)
#   LADING_STATIC_CACHE     dependency cache (default: /var/cache/lading-static as root,
#                           else ${XDG_CACHE_HOME:-~/.cache}/lading-static)
#   LADING_STATIC_JOBS      parallel jobs (default: nproc, at most 16)
#   LADING_STATIC_REFRESH=1 refresh the source package indices even if they are recent
#   SKIP_APT=1              never call apt-get install (the tools must be there already)
#
# Progress goes to stderr; stdout carries only the executor's path. Build logs of the
# dependencies stay in <cache>/<arch>-<key>/logs/, meson's in the build directory.
#
# Kernel headers: musl-gcc's specs file replaces the system include path with musl's (-nostdinc),
# so <linux/*.h> (e.g. linux/openat2.h) is not found. The cache holds a directory of symlinks
# to the kernel's UAPI headers of Debian's linux-libc-dev (linux/, asm/, asm-generic/), added
# with -idirafter: searched after musl's own headers, so musl's definitions always win and only
# the kernel-only headers come from there. The UAPI headers need no libc, which is why this is
# safe; like with glibc, a file must not include both <net/if.h> and <linux/if.h>.
#
# Needs no /proc (no process substitution, nothing read from /proc), so it also runs in a bare
# chroot.
set -Eeuo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
recipes=$top/scripts/static/deps.sh

msg() { printf 'build-static: %s\n' "$*" >&2; }
die() {
        printf 'build-static: error: %s\n' "$*" >&2
        exit 1
}
# Reported once, by the main shell; a failing subshell just exits (set -e).
trap '[ "$BASH_SUBSHELL" != 0 ] || die "unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

usage() {
        sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

builddir=${LADING_STATIC_BUILDDIR:-$top/build-static}
cache=${LADING_STATIC_CACHE:-}
jobs=${LADING_STATIC_JOBS:-}
deps_only=0
while [ $# -gt 0 ]; do
        case $1 in
        --builddir) builddir=${2:?--builddir needs a directory}; shift 2 ;;
        --builddir=*) builddir=${1#*=}; shift ;;
        --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
        --cache=*) cache=${1#*=}; shift ;;
        --jobs | -j) jobs=${2:?--jobs needs a number}; shift 2 ;;
        --jobs=*) jobs=${1#*=}; shift ;;
        --deps-only) deps_only=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
        esac
done

if [ -z "$jobs" ]; then
        jobs=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
        [ "$jobs" -le 16 ] || jobs=16
fi
case $jobs in '' | *[!0-9]* | 0) die "--jobs must be a positive number, not '$jobs'" ;; esac

if [ -z "$cache" ]; then
        if [ "$(id -u)" = 0 ]; then
                cache=/var/cache/lading-static
        else
                cache=${XDG_CACHE_HOME:-$HOME/.cache}/lading-static
        fi
fi
mkdir -p "$cache" "$builddir" || die "cannot create '$cache' or '$builddir'"
cache=$(cd "$cache" && pwd)
builddir=$(cd "$builddir" && pwd)
case $cache/ in "$top"/*) die "the cache '$cache' must be outside the source tree" ;; esac

# ---------------------------------------------------------------------------------------------
# 1. Tools

packages=(dpkg-dev musl-tools gcc binutils make perl pkg-config meson ninja-build linux-libc-dev
          file xz-utils bzip2 patch)

install_packages() {
        local missing=() p
        for p in "${packages[@]}"; do
                dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
                        missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        if [ "${SKIP_APT:-0}" = 1 ]; then
                msg "SKIP_APT=1: not installing ${missing[*]}"
                return 0
        fi
        [ "$(id -u)" = 0 ] || die "missing packages (run as root, or install them): ${missing[*]}"
        msg "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >&2 || die "apt-get update failed"
        apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
                die "apt-get install ${missing[*]} failed"
}

command -v dpkg-query >/dev/null || die "this script needs a Debian-based system (dpkg, apt)"
install_packages
for t in apt-get dpkg-source musl-gcc make perl pkg-config meson ninja strip readelf file; do
        command -v "$t" >/dev/null || die "'$t' is not installed"
done

arch=$(uname -m)
case $arch in
x86_64) openssl_target=linux-x86_64 ;;
aarch64) openssl_target=linux-aarch64 ;;
armv7* | armv6*) openssl_target=linux-armv4 ;;
i?86) openssl_target=linux-x86 ;;
ppc64le) openssl_target=linux-ppc64le ;;
s390x) openssl_target=linux64-s390x ;;
riscv64) openssl_target=linux64-riscv64 ;;
*) die "no OpenSSL target known for machine '$arch'" ;;
esac
multiarch=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH)
if [ ! -d "/usr/include/$multiarch/asm" ] || [ ! -d /usr/include/linux ]; then
        die "kernel headers not found (/usr/include/linux, /usr/include/$multiarch/asm):" \
            "install linux-libc-dev"
fi

# ---------------------------------------------------------------------------------------------
# 2. Source packages, through a private apt state in the cache: the machine's own apt
#    configuration (proxies, keyrings) is used, its sources and lists are left untouched.

exec 9>"$cache/lock"
if ! flock -n 9; then
        msg "waiting for another build-static.sh using '$cache'"
        flock 9
fi

aptdir=$cache/apt
mkdir -p "$aptdir/sources.list.d" "$aptdir/lists/partial" "$aptdir/cache"
apt_opts=(-o "Dir::Etc::SourceList=$aptdir/deb-src.list"
          -o "Dir::Etc::SourceParts=$aptdir/sources.list.d"
          -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache")

# derive_deb_src LIST_OUT SOURCES_OUT: every enabled `deb` entry of the machine's apt sources,
# as a `deb-src` entry with the same URIs, suites, components and options (keyrings).
derive_deb_src() {
        local list_out=$1 sources_out=$2 SL='' SP='' f
        eval "$(apt-config shell SL Dir::Etc::sourcelist/f SP Dir::Etc::sourceparts/d)"
        : >"$list_out"
        : >"$sources_out"
        for f in "$SL" "$SP"*.list; do
                [ -f "$f" ] || continue
                sed -n -E 's/^[[:space:]]*deb(-src)?([[:space:]]+)/deb-src\2/p' "$f" >>"$list_out"
        done
        for f in "$SP"*.sources; do
                [ -f "$f" ] || continue
                awk 'BEGIN { RS = ""; FS = "\n" }
                     {
                        out = ""; deb = 0; enabled = 1
                        for (i = 1; i <= NF; i++) {
                                if ($i ~ /^#/) continue
                                if ($i ~ /^Types:/) {
                                        if ($i ~ /[[:space:]]deb(-src)?([[:space:]]|$)/) deb = 1
                                        out = out "Types: deb-src\n"
                                        continue
                                }
                                if ($i ~ /^Enabled:[[:space:]]*(no|false)/) enabled = 0
                                out = out $i "\n"
                        }
                        if (deb && enabled) printf "%s\n", out
                     }' "$f" >>"$sources_out"
        done
        sort -u -o "$list_out" "$list_out"
        [ -s "$list_out" ] || [ -s "$sources_out" ] ||
                die "no 'deb' entry in the apt sources ($SL, $SP): cannot derive deb-src entries"
}

refresh_sources() {
        local new_list=$aptdir/deb-src.list.new new_sources=$aptdir/deb-src.sources.new
        local stamp=$aptdir/lists/.updated changed=0
        derive_deb_src "$new_list" "$new_sources"
        cmp -s "$new_list" "$aptdir/deb-src.list" || changed=1
        cmp -s "$new_sources" "$aptdir/sources.list.d/deb-src.sources" || changed=1
        mv "$new_list" "$aptdir/deb-src.list"
        mv "$new_sources" "$aptdir/sources.list.d/deb-src.sources"
        if [ $changed = 0 ] && [ "${LADING_STATIC_REFRESH:-0}" != 1 ] && [ -f "$stamp" ] &&
                [ -z "$(find "$stamp" -mmin +1440)" ]; then
                return 0
        fi
        msg "updating the source package indices (deb-src)"
        if apt-get "${apt_opts[@]}" -q update >"$aptdir/update.log" 2>&1; then
                touch "$stamp"
        elif compgen -G "$aptdir/lists/*Sources*" >/dev/null; then
                msg "warning: 'apt-get update' for deb-src reported errors, using the indices" \
                    "it could fetch (see $aptdir/update.log)"
                touch "$stamp"
        else
                tail -n 20 "$aptdir/update.log" >&2
                die "cannot fetch Debian's source package indices (see $aptdir/update.log)"
        fi
}

# versions PKG: the versions of source package PKG in the indices, newest first.
versions() {
        local v sorted=() i
        while read -r v; do
                [ -n "$v" ] || continue
                # insertion sort with dpkg's ordering; a package has a handful of versions
                i=${#sorted[@]}
                sorted+=("$v")
                while [ "$i" -gt 0 ] && dpkg --compare-versions "${sorted[i - 1]}" lt "$v"; do
                        sorted[i]=${sorted[i - 1]}
                        sorted[i - 1]=$v
                        i=$((i - 1))
                done
        done <<<"$(apt-cache "${apt_opts[@]}" showsrc --only-source "$1" 2>/dev/null |
                   sed -n 's/^Version: //p' | sort -u)"
        printf '%s\n' "${sorted[@]}"
}

# fetch_source PKG DIR VERSION...: `apt-get source` the first version that can be downloaded
# (a mirror may already have dropped the newest one from its pool) into DIR; prints the source
# tree's path and the version.
fetch_source() {
        local pkg=$1 dir=$2 v log
        shift 2
        log=$dir/fetch.log
        mkdir -p "$dir"
        # apt downloads as user _apt when run as root: let it write here.
        if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
                chown _apt "$dir"
        fi
        for v in "$@"; do
                if (cd "$dir" && apt-get "${apt_opts[@]}" -q source --only-source "$pkg=$v") \
                        >>"$log" 2>&1; then
                        local tree
                        tree=$(find "$dir" -mindepth 1 -maxdepth 1 -type d | head -n 1)
                        [ -n "$tree" ] || die "apt-get source $pkg=$v unpacked nothing (see $log)"
                        printf '%s %s\n' "$tree" "$v"
                        return 0
                fi
                msg "warning: cannot fetch the source of $pkg $v, trying an older version" \
                    "(see $log)"
                find "$dir" -mindepth 1 -maxdepth 1 ! -name fetch.log -exec rm -rf {} +
        done
        tail -n 20 "$log" >&2
        die "cannot fetch any version of source package $pkg (versions tried: $*);" \
            "LADING_STATIC_REFRESH=1 refreshes the indices"
}

# shellcheck source=scripts/static/deps.sh
. "$recipes"

refresh_sources
declare -A candidates
key_input="arch=$arch musl=$(dpkg-query -W -f='${Version}' musl-dev 2>/dev/null || true)"
key_input+=" gcc=$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)"
key_input+=" linux-libc-dev=$(dpkg-query -W -f='${Version}' linux-libc-dev 2>/dev/null || true)"
key_input+=" recipes=$(sha256sum <"$recipes" | cut -d' ' -f1)"
for pkg in "${STATIC_DEPS[@]}"; do
        candidates[$pkg]=$(versions "$pkg" | tr '\n' ' ')
        [ -n "${candidates[$pkg]// /}" ] ||
                die "source package '$pkg' is not in the deb-src indices (see $aptdir/update.log)"
        key_input+=" $pkg=${candidates[$pkg]%% *}"
done
key=$(printf '%s\n' "$key_input" | sha256sum | cut -c1-16)
PREFIX=$cache/$arch-$key
export PREFIX JOBS=$jobs OPENSSL_TARGET=$openssl_target

# The meson native file of this cache; rewritten only when its text changes, since meson
# reconfigures when it is touched.
write_native_file() {
        cat >"$PREFIX/meson-native.ini.new" <<EOF
# Written by scripts/build-static.sh: musl-gcc and the static dependencies of $PREFIX.
[binaries]
c = 'musl-gcc'
ar = 'ar'
strip = 'strip'
pkg-config = '$(command -v pkg-config)'

[properties]
pkg_config_libdir = ['$PREFIX/lib/pkgconfig']

[built-in options]
c_args = ['-idirafter', '$PREFIX/kernel-headers']
pkg_config_path = []
EOF
        if cmp -s "$PREFIX/meson-native.ini.new" "$PREFIX/meson-native.ini"; then
                rm "$PREFIX/meson-native.ini.new"
        else
                mv "$PREFIX/meson-native.ini.new" "$PREFIX/meson-native.ini"
        fi
}

build_deps() {
        local work=$cache/work-$key pkg start fetched tree version
        rm -rf "$PREFIX" "$work"
        mkdir -p "$PREFIX/logs" "$PREFIX/kernel-headers" "$work"
        ln -s /usr/include/linux "$PREFIX/kernel-headers/linux"
        ln -s "/usr/include/$multiarch/asm" "$PREFIX/kernel-headers/asm"
        ln -s /usr/include/asm-generic "$PREFIX/kernel-headers/asm-generic"
        : >"$PREFIX/versions.txt"
        for pkg in "${STATIC_DEPS[@]}"; do
                start=$SECONDS
                # shellcheck disable=SC2086 # the candidates are a word list
                fetched=$(fetch_source "$pkg" "$work/$pkg" ${candidates[$pkg]})
                read -r tree version <<<"$fetched"
                msg "building $pkg $version (log: $PREFIX/logs/$pkg.log)"
                # A shell of its own: `set -e` holds in the recipe even though it runs here
                # as the condition of an `if`.
                if ! bash -c 'set -Eeuo pipefail; . "$1"; deps_env; cd "$2"; set -x; "build_${3//-/_}"' \
                        build-dep "$recipes" "$tree" "$pkg" >"$PREFIX/logs/$pkg.log" 2>&1; then
                        tail -n 25 "$PREFIX/logs/$pkg.log" | cut -c1-300 >&2
                        die "building $pkg $version failed (full log: $PREFIX/logs/$pkg.log)"
                fi
                printf '%s %s\n' "$pkg" "$version" >>"$PREFIX/versions.txt"
                msg "built $pkg in $((SECONDS - start)) s"
                rm -rf "${work:?}/$pkg"
        done
        rm -rf "$work"
        touch "$PREFIX/.complete"
}

if [ -f "$PREFIX/.complete" ]; then
        msg "dependencies cached in $PREFIX"
        touch "$PREFIX/.complete"
else
        msg "building the dependencies into $PREFIX ($jobs jobs)"
        deps_start=$SECONDS
        build_deps
        msg "dependencies built in $((SECONDS - deps_start)) s"
fi
# Caches of other versions: keep the two used last (another branch may need them), drop
# unfinished ones and those unused for 30 days.
kept=0
while read -r d; do
        if [ -z "$d" ] || [ "$d" = "$PREFIX" ]; then
                continue
        fi
        if [ -f "$d/.complete" ] && [ $kept -lt 2 ] && [ -z "$(find "$d/.complete" -mtime +30)" ]; then
                kept=$((kept + 1))
        else
                rm -rf "$d"
        fi
done <<<"$(ls -dt "$cache/$arch"-* 2>/dev/null)"
rm -rf "$cache"/work-*
write_native_file
flock -u 9

if [ $deps_only = 1 ]; then
        echo "$PREFIX"
        exit 0
fi

# ---------------------------------------------------------------------------------------------
# 3. lading itself

log=$builddir/build-static.log
# A build directory configured for other dependencies, or whose setup failed, starts afresh;
# one that meson did not make is never deleted.
if [ ! -f "$builddir/build.ninja" ] ||
        [ "$(cat "$builddir/.lading-static-prefix" 2>/dev/null)" != "$PREFIX" ]; then
        if [ -n "$(ls -A "$builddir")" ]; then
                [ -d "$builddir/meson-private" ] ||
                        die "'$builddir' is not empty and not a meson build directory"
                find "$builddir" -mindepth 1 -delete
        fi
        msg "configuring lading in $builddir"
        if ! meson setup "$builddir" "$top" --native-file "$PREFIX/meson-native.ini" \
                --buildtype=release -Dstatic=true -Dtests=false -Db_pie=false \
                -Db_staticpic=false >"$log" 2>&1; then
                tail -n 25 "$log" | cut -c1-300 >&2
                die "meson setup failed (log: $log, $builddir/meson-logs/meson-log.txt)"
        fi
        echo "$PREFIX" >"$builddir/.lading-static-prefix"
fi
msg "compiling"
if ! ninja -C "$builddir" -j "$jobs" executor/executor >>"$log" 2>&1; then
        tail -n 25 "$log" | cut -c1-300 >&2
        die "compiling lading failed (log: $log)"
fi

mkdir -p "$builddir/dist"
exe=$builddir/dist/executor
strip --strip-all -o "$exe.tmp" "$builddir/executor/executor"
mv "$exe.tmp" "$exe"

# The point of all this: no ELF interpreter and no dynamic section, so extracting a base image
# over /lib cannot break the executor.
headers=$(readelf -lW "$exe")
dynamic=$(readelf -dW "$exe")
kind=$(file -b "$exe")
if grep -q 'INTERP' <<<"$headers"; then
        die "$exe has an ELF interpreter: it is not statically linked"
fi
if grep -q 'NEEDED' <<<"$dynamic"; then
        die "$exe needs shared libraries: it is not statically linked"
fi
grep -q 'statically linked' <<<"$kind" || die "file(1) does not see $exe as statically linked: $kind"
"$exe" --version >&2 || die "$exe --version failed"

# A small program against the same dependencies, for tests/integration/static: proves that
# TLS (libssl), libcurl and libarchive link and work in this static build.
check_src=$top/tests/integration/static/deps-check.c
if [ -f "$check_src" ]; then
        # shellcheck disable=SC2046 # pkg-config prints word lists
        if ! musl-gcc -std=gnu17 -O2 -Wall -Wextra -Werror -static -Wl,--gc-sections \
                -o "$builddir/static-deps-check" "$check_src" \
                $(PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig PKG_CONFIG_PATH='' pkg-config --static \
                  --cflags --libs libcurl libarchive libssl libcrypto libzstd zlib) >>"$log" 2>&1; then
                tail -n 25 "$log" | cut -c1-300 >&2
                die "building the dependency check program failed (log: $log)"
        fi
        strip --strip-all "$builddir/static-deps-check"
fi

msg "static executor: $(stat -c %s "$exe") bytes"
echo "$exe"
