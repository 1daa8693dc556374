# shellcheck shell=bash
# Recipes for the static executor's dependencies, sourced by scripts/build-static.sh.
#
# Each build_<name> runs inside the unpacked Debian source tree (Debian's patches applied by
# dpkg-source) with CC=musl-gcc and installs static libraries, headers and a pkg-config file
# into $PREFIX. Only what lading uses is built: no shared objects, no programs, no docs.
# The caller sets PREFIX, JOBS and OPENSSL_TARGET and calls deps_env (below) first.
#
# Changing anything in this file changes the cache key, so every dependency is rebuilt.

# Source packages in build order; a package's dependencies come before it. The recipe of
# package P is build_P with every '-' of P made a '_' (xz-utils: build_xz_utils).
# shellcheck disable=SC2034 # used by scripts/build-static.sh
STATIC_DEPS=(zlib bzip2 xz-utils libzstd openssl nghttp2 curl libarchive cjson)

# deps_env: the toolchain for every recipe. Everything is compiled for static linking with
# musl; -ffunction-sections/-fdata-sections let the executor's link drop unused code.
deps_env() {
        export CC=musl-gcc AR=ar RANLIB=ranlib
        export CFLAGS="-O2 -pipe -fstack-protector-strong -ffunction-sections -fdata-sections"
        # Kernel UAPI headers (OpenSSL includes linux/mman.h): see "Kernel headers" in
        # scripts/build-static.sh.
        export CPPFLAGS="-I$PREFIX/include -idirafter $PREFIX/kernel-headers"
        export LDFLAGS="-static -L$PREFIX/lib"
        # Only the dependencies built here: never the machine's glibc builds of the same.
        export PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig" PKG_CONFIG_PATH=
        unset CXX CXXFLAGS LIBS PKG_CONFIG_SYSROOT_DIR CROSS_COMPILE
}

build_zlib() {
        ./configure --static --prefix="$PREFIX" --libdir="$PREFIX/lib"
        make -j"$JOBS" libz.a
        make install
        rm -rf "${PREFIX:?}/share"
}

build_bzip2() {
        # libbz2 for libarchive's bzip2 reader (ADD of a .tar.bz2). Without it libarchive
        # would run an external `bzip2 -d`, which the release image does not have. The
        # Makefile's CFLAGS (-g, no large files) are replaced with ours.
        make -j"$JOBS" libbz2.a CC="$CC" AR="$AR" RANLIB="$RANLIB" \
                CFLAGS="$CFLAGS -D_FILE_OFFSET_BITS=64"
        install -d "$PREFIX/include" "$PREFIX/lib"
        install -m 644 bzlib.h "$PREFIX/include/bzlib.h"
        install -m 644 libbz2.a "$PREFIX/lib/libbz2.a"
}

build_xz_utils() {
        # liblzma for libarchive's xz and lzma readers (ADD of a .tar.xz), for the same reason
        # as bzip2. Only the library: no programs, scripts, translations or docs.
        ./configure --prefix="$PREFIX" --disable-shared --enable-static --with-pic=no \
                --disable-dependency-tracking --disable-maintainer-mode --disable-rpath \
                --disable-xz --disable-xzdec --disable-lzmadec --disable-lzmainfo \
                --disable-lzma-links --disable-scripts --disable-doc --disable-nls
        make -C src/liblzma -j"$JOBS"
        make -C src/liblzma install
}

build_libzstd() {
        # Multi-threaded compression (ZSTD_MULTITHREAD) for zstd layers; no legacy formats,
        # no dictionary builder, no deprecated API. CFLAGS come from the environment so that
        # the library's own makefile fragments can still append to them.
        local knobs=(ZSTD_LEGACY_SUPPORT=0 ZSTD_LIB_DICTBUILDER=0 ZSTD_LIB_DEPRECATED=0
                     PREFIX="$PREFIX" LIBDIR="$PREFIX/lib")
        CFLAGS="$CFLAGS -O3" make -C lib -j"$JOBS" libzstd.a-mt "${knobs[@]}"
        make -C lib install-static install-includes install-pc "${knobs[@]}"
        # The .pc file is generated for the shared library; the static one needs -pthread.
        sed -i 's/^Libs.private:.*/Libs.private: -pthread/' "$PREFIX/lib/pkgconfig/libzstd.pc"
}

build_openssl() {
        # libcrypto (sha256, TLS primitives) and libssl for libcurl; nothing loadable:
        #   no-module/no-engine/no-dso: providers and engines are compiled in, never dlopen'ed.
        #   no-autoload-config: never read openssl.cnf; a base image extracted over /etc/ssl
        #     must not change how the executor talks TLS (its providers could not load anyway).
        #   --openssldir=/etc/ssl: the default CA locations are /etc/ssl/certs and
        #     /etc/ssl/cert.pem; SSL_CERT_FILE and SSL_CERT_DIR override them at run time.
        # Protocols and algorithms that no registry needs are left out to save time and size.
        # Flags go through the environment (CC, CFLAGS, LDFLAGS), which Configure reads.
        local opts=(no-shared no-module no-engine no-dso no-apps no-tests no-docs
                    no-autoload-config no-legacy no-comp no-ssl3 no-dtls no-srp no-psk
                    no-srtp no-sctp no-ct no-cms no-ts no-ocsp no-nextprotoneg no-gost no-idea
                    no-mdc2 no-rc5 no-md2 no-camellia no-seed no-sm2 no-sm3 no-sm4 no-whirlpool
                    no-aria no-bf no-cast no-rmd160 no-siphash no-ec2m no-ui-console
                    no-filenames no-async no-des no-rc2 no-rc4 no-md4 no-dsa no-dh
                    no-rfc3779 no-ocb no-siv no-scrypt no-blake2 no-multiblock no-ssl-trace)
        # Options this version does not know (no-apps and no-docs appeared in 3.2) are left
        # out, so the recipe works with the OpenSSL of another Debian release too.
        local o known supported=()
        known=$(sed -n '/^my @disablables = (/,/^[[:space:]]*);/p' Configure)
        for o in "${opts[@]}"; do
                if grep -q "\"${o#no-}\"" <<<"$known"; then
                        supported+=("$o")
                fi
        done
        # No -static in LDFLAGS here: with it, Configure disables threads (and PIC) and the
        # library's locks become no-ops, so the executor's concurrent TLS handshakes corrupt
        # its heap. Only static libraries are built anyway (no-shared, no-apps).
        LDFLAGS="-L$PREFIX/lib" ./Configure "$OPENSSL_TARGET" --prefix="$PREFIX" --libdir=lib \
                --openssldir=/etc/ssl threads "${supported[@]}"
        make -j"$JOBS" build_libs
        make install_dev
        if ! grep -q '^# *define OPENSSL_THREADS' "$PREFIX/include/openssl/configuration.h"; then
                echo "OpenSSL was configured without thread support" >&2
                return 1
        fi
}

build_nghttp2() {
        # libnghttp2 alone, for libcurl's HTTP/2: the registry client asks for HTTP/2 over TLS,
        # as Debian's own libcurl offers it. Debian's source is the upstream git tree, without
        # a configure script; the library is 25 plain C files and a version header, so it is
        # compiled directly (no autotools, no cmake), like cJSON below.
        local version num
        version=$(sed -n 's/^AC_INIT(\[nghttp2\], *\[\([0-9.]*\)\].*/\1/p' configure.ac)
        case $version in
        [0-9]*.[0-9]*.[0-9]*) ;;
        *) echo "no version found in configure.ac" >&2; return 1 ;;
        esac
        # shellcheck disable=SC2086 # the version's three numbers
        num=$(printf '0x%02x%02x%02x' ${version//./ })
        sed -e "s/@PACKAGE_VERSION@/$version/" -e "s/@PACKAGE_VERSION_NUM@/$num/" \
                lib/includes/nghttp2/nghttp2ver.h.in >lib/includes/nghttp2/nghttp2ver.h
        # What its configure finds on Linux; NGHTTP2_STATICLIB only matters on Windows.
        local defs="-DHAVE_ARPA_INET_H -DHAVE_NETINET_IN_H -DHAVE_TIME_H -DHAVE_CLOCK_GETTIME"
        defs+=" -DBUILDING_NGHTTP2 -DNGHTTP2_STATICLIB -Ilib -Ilib/includes"
        # shellcheck disable=SC2086 # CFLAGS, CPPFLAGS and defs are word lists
        printf '%s\n' lib/*.c | xargs -P "$JOBS" -I{} $CC $CPPFLAGS $CFLAGS $defs -c {} -o {}.o
        ar rcs libnghttp2.a lib/*.c.o
        install -d "$PREFIX/include/nghttp2" "$PREFIX/lib/pkgconfig"
        install -m 644 lib/includes/nghttp2/nghttp2.h lib/includes/nghttp2/nghttp2ver.h \
                "$PREFIX/include/nghttp2/"
        install -m 644 libnghttp2.a "$PREFIX/lib/libnghttp2.a"
        cat >"$PREFIX/lib/pkgconfig/libnghttp2.pc" <<EOF
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libnghttp2
Description: HTTP/2 C library
Version: $version
Libs: -L\${libdir} -lnghttp2
Cflags: -I\${includedir}
EOF
}

build_curl() {
        # libcurl for the registry client: HTTP(S) only, HTTP/2 (nghttp2), OpenSSL for TLS,
        # zlib for Content-Encoding, the threaded resolver (musl's getaddrinfo reads /etc/hosts and
        # /etc/resolv.conf itself: no NSS, no dlopen), proxies kept (HTTPS_PROXY, NO_PROXY).
        # CA certificates: no compiled-in bundle; OpenSSL's default paths are the fallback,
        # overridable with SSL_CERT_FILE/SSL_CERT_DIR, and the executor may set CAINFO itself.
        ./configure --prefix="$PREFIX" --disable-shared --enable-static --with-pic=no \
                --disable-dependency-tracking --disable-maintainer-mode \
                --with-openssl="$PREFIX" --with-zlib="$PREFIX" --with-nghttp2="$PREFIX" \
                --disable-openssl-auto-load-config --enable-threaded-resolver --disable-ares \
                --without-ca-bundle --without-ca-path --with-ca-fallback \
                --enable-http --enable-proxy --enable-ipv6 --disable-ftp --disable-file \
                --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
                --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
                --disable-gopher --disable-mqtt --disable-manual --disable-libcurl-option \
                --disable-ntlm --disable-ntlm-wb --disable-crypto-auth --disable-tls-srp \
                --disable-unix-sockets --disable-cookies --disable-doh --disable-mime \
                --disable-netrc --disable-alt-svc --disable-hsts --disable-websockets \
                --disable-get-easy-options --disable-progress-meter \
                --without-zstd --without-brotli --without-libpsl --without-libidn2 \
                --without-librtmp --without-libssh2 --without-libssh --without-wolfssh \
                --without-ngtcp2 --without-nghttp3 --without-quiche \
                --without-msh3 --without-hyper --without-libgsasl --without-gssapi \
                --without-zsh-functions-dir --without-fish-functions-dir
        make -C lib -j"$JOBS" libcurl.la
        make -C lib install-libLTLIBRARIES
        make -C include install
        make install-pkgconfigDATA
}

build_libarchive() {
        # Tar streams with gzip (zlib), bzip2, xz/lzma (liblzma) and zstd filters: the
        # compressions ADD unpacks. The linker keeps only the formats and filters the
        # executor registers. No ACL/xattr disk support (the executor sets metadata itself
        # through fds), no crypto, XML, lz4 or lzo (for those libarchive would run external
        # programs, which the release image does not have).
        ./configure --prefix="$PREFIX" --disable-shared --enable-static --with-pic=no \
                --disable-dependency-tracking --disable-maintainer-mode \
                --disable-bsdtar --disable-bsdcat --disable-bsdcpio --disable-rpath \
                --disable-acl --disable-xattr --with-zlib --with-zstd --with-bz2lib --with-lzma \
                --without-libb2 --without-lz4 --without-lzo2 \
                --without-cng --without-mbedtls --without-nettle --without-openssl \
                --without-xml2 --without-expat
        make -j"$JOBS" libarchive.la
        make install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA
        # Debian's iconv-pkgconfig.patch names an iconv.pc; musl has iconv in libc.
        sed -i -e '/^Requires.private:/s/[[:space:]]*iconv//' -e '/^Requires.private:[[:space:]]*$/d' \
                "$PREFIX/lib/pkgconfig/libarchive.pc"
}

build_cjson() {
        # One source file; built directly so that no cmake is needed. The header path
        # (cjson/cJSON.h) and the pkg-config name (libcjson) match Debian's libcjson-dev.
        local version
        version=$(awk '/^set\(PROJECT_VERSION_(MAJOR|MINOR|PATCH) / {
                        sub(/\)/, "", $2); v = v (v == "" ? "" : ".") $2 } END { print v }' \
                        CMakeLists.txt)
        # shellcheck disable=SC2086 # CFLAGS and CPPFLAGS are word lists
        $CC $CPPFLAGS $CFLAGS -c cJSON.c -o cJSON.o
        ar rcs libcjson.a cJSON.o
        install -d "$PREFIX/include/cjson" "$PREFIX/lib/pkgconfig"
        install -m 644 cJSON.h "$PREFIX/include/cjson/cJSON.h"
        install -m 644 libcjson.a "$PREFIX/lib/libcjson.a"
        cat >"$PREFIX/lib/pkgconfig/libcjson.pc" <<EOF
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libcjson
Description: Ultralightweight JSON parser in ANSI C
Version: $version
Libs: -L\${libdir} -lcjson
Libs.private: -lm
Cflags: -I\${includedir} -I\${includedir}/cjson
EOF
}
