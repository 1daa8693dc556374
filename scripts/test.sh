#!/usr/bin/env bash
# The test command of the README: on a fresh Debian/Ubuntu machine, as root, installs what the
# tests need, builds lading three ways (plain, ASan+UBSan, libFuzzer), runs every suite (unit,
# fuzz corpus replay, integration against a real registry on 127.0.0.1, bounded fuzzing, unit
# tests under valgrind and with openat2 disabled, format and banned-function checks) and ends
# with one line: "N passed, N failed".
#
# Environment: FUZZ_SECONDS (default 20) per fuzz target; SKIP_APT=1 to skip apt-get.
set -u
cd "$(dirname "$0")/.."
top=$PWD
results=$top/build-results
rm -rf "$results"
mkdir -p "$results"
fuzz_seconds=${FUZZ_SECONDS:-20}

packages=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev clang-format
          libcurl4-openssl-dev libarchive-dev zlib1g-dev libssl-dev libcjson-dev libzstd-dev
          valgrind docker-registry skopeo umoci buildah busybox-static musl-tools python3
          openssl git ca-certificates file tar gzip zstd util-linux iproute2 dpkg-dev
          make perl binutils linux-libc-dev xz-utils bzip2 patch python3-yaml mmdebstrap
          zsh fish)

install_packages() {
        [ "${SKIP_APT:-0}" = 1 ] && return 0
        local missing=()
        for p in "${packages[@]}"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
                        missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        echo "== installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# record NAME STATUS: one synthetic result for a check that is not a meson test
record() {
        echo "$2 $1" >>"$results/checks.txt"
        echo "== check $1: $2"
}

setup_build() {
        local dir=$1
        shift
        if [ ! -f "$dir/build.ninja" ]; then
                meson setup "$dir" "$@" >"$results/setup-$(basename "$dir").log" 2>&1 || {
                        cat "$results/setup-$(basename "$dir").log"
                        return 1
                }
        fi
        ninja -C "$dir" >"$results/ninja-$(basename "$dir").log" 2>&1 || {
                tail -50 "$results/ninja-$(basename "$dir").log"
                return 1
        }
}

# run_meson NAME BUILDDIR [meson test args...]: results go to $results/NAME.json
run_meson() {
        local name=$1 dir=$2
        shift 2
        echo "== meson test: $name"
        meson test -C "$dir" --print-errorlogs --logbase "$name" "$@" 2>&1 | tail -25
        # meson appends the wrapper's name to the log base
        for f in "$dir/meson-logs/$name".json "$dir/meson-logs/$name"-*.json; do
                [ -f "$f" ] && cp "$f" "$results/$name.json"
        done
        rm -f "$dir/meson-logs/$name".json "$dir/meson-logs/$name"-*.json
}

install_packages || { echo "0 passed, 1 failed"; exit 1; }

if setup_build build; then record build PASS; else record build FAIL; fi
if setup_build build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
        record build-asan PASS
else
        record build-asan FAIL
fi
# fuzzer-no-link gives the libraries coverage counters; without it libFuzzer sees only the
# target's own file and fuzzes blind
if CC=clang setup_build build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dwerror=false -Dc_args=-fsanitize=fuzzer-no-link; then
        record build-fuzz PASS
else
        record build-fuzz FAIL
fi
# The static musl executor for tests/integration/static (dependencies cached outside the tree:
# minutes when cold, seconds when warm).
if static_exe=$(bash scripts/build-static.sh --builddir "$top/build-static" \
        2>"$results/build-static.log" | tail -n 1) && [ -x "$static_exe" ]; then
        export LADING_STATIC_EXECUTOR=$static_exe
        record build-static PASS
else
        tail -30 "$results/build-static.log"
        record build-static FAIL
fi

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1

if [ -f build/build.ninja ]; then
        run_meson unit build --suite unit
        run_meson fuzz-regress build --suite fuzz-regress
        run_meson integration build --suite integration --num-processes 2 -t 2
        run_meson unit-valgrind build --suite unit \
                --wrapper 'valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --quiet'
        run_meson unit-no-openat2 build --suite unit --wrapper "$top/build/tests/no-openat2"
fi
if [ -f build-asan/build.ninja ]; then
        run_meson unit-asan build-asan --suite unit
        run_meson fuzz-regress-asan build-asan --suite fuzz-regress
        # The executor and the test tools under ASan+UBSan through the integration tests: lading's
        # side only (buildah's is the same as in the plain run), without the memory ceilings
        # (ASan's shadow memory) and the static executor's tests (not an ASan build).
        asan_tests=$(meson test -C build-asan --list 2>/dev/null |
                sed -n 's|^lading:integration / ||p' |
                grep -vxE 'registry-memory|release-selfbuild|release-pod|static-executor')
        # shellcheck disable=SC2086
        LADING_BUILD_BUILDERS=lading run_meson integration-asan build-asan --suite integration \
                --num-processes 2 -t 2 $asan_tests
fi

# Bounded fuzzing: any crash, leak or sanitizer report fails the target.
if [ -d build-fuzz/tests/fuzz ]; then
        for exe in build-fuzz/tests/fuzz/fuzz-*; do
                # meson keeps each target's objects in a directory fuzz-NAME.p
                [ -f "$exe" ] && [ -x "$exe" ] || continue
                t=$(basename "$exe" | sed 's/^fuzz-//')
                corpus=$(find tests/fuzz -type d -path "*/corpus/$t" | head -1)
                work=$(mktemp -d)
                [ -n "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
                dict=$(find tests/fuzz -name "$t.dict" | head -1)
                if "$exe" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -timeout=20 \
                        ${dict:+-dict="$dict"} "$work" >"$results/fuzz-$t.log" 2>&1; then
                        record "fuzz-$t" PASS
                else
                        tail -40 "$results/fuzz-$t.log"
                        record "fuzz-$t" FAIL
                fi
                rm -rf "$work"
        done
fi

# Source checks: formatting and banned functions (STYLE.md §3).
# (files under cases/ and corpus/ are test data: their bytes are what a test expects)
sources=$(git ls-files '*.c' '*.h' 2>/dev/null | grep -vE '/(cases|corpus)/' ||
          find common executor registry snapshot tests -name '*.[ch]' -not -path '*/cases/*')
if clang-format --dry-run --Werror $sources >"$results/format.log" 2>&1; then
        record clang-format PASS
else
        head -30 "$results/format.log"
        record clang-format FAIL
fi
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|strtok_r|atoi|atol|system|popen|basename|dirname|dup|tmpnam)[[:space:]]*\('
if grep -nE "$banned" $(echo "$sources" | grep -v '^tests/') >"$results/banned.log" 2>&1; then
        cat "$results/banned.log"
        record banned-functions FAIL
else
        record banned-functions PASS
fi

# Tests run as root next to the machine's own /dev: one that replaced /dev/null (a tool writing
# a dump file there did, once) breaks every later program that writes to it.
if [ -c /dev/null ]; then
        record host-dev-null-intact PASS
else
        ls -l /dev/null
        record host-dev-null-intact FAIL
fi

python3 scripts/count-results.py "$results"
