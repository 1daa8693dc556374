#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes the seed corpus of the 'extract' fuzz target: small layers with every entry type,
# escapes, whiteouts, replacements, in pax, GNU and ustar formats, plain, gzip and zstd.
# Usage: make-extract-corpus.py DIR   (the zstd seed needs the zstd command)
import gzip, io, os, shutil, subprocess, sys, tarfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def info(name, kind=tarfile.REGTYPE, data=b"", **kw):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.size = len(data) if kind == tarfile.REGTYPE else 0
    t.mtime = 1700000000
    for k, v in kw.items():
        setattr(t, k, v)
    return t, io.BytesIO(data) if kind == tarfile.REGTYPE else None


def layer(entries, fmt=tarfile.PAX_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for e in entries:
            t.addfile(*e)
    return b.getvalue()


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


types = layer([
    info("etc/", tarfile.DIRTYPE, mode=0o755),
    info("etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n", mode=0o644),
    info("bin/su", data=b"\x7fELF", mode=0o4755, uid=0, gid=0),
    info("abs", tarfile.SYMTYPE, linkname="/etc/passwd"),
    info("rel", tarfile.SYMTYPE, linkname="../etc"),
    info("hard", tarfile.LNKTYPE, linkname="etc/passwd"),
    info("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
    info("run/fifo", tarfile.FIFOTYPE),
    info("caps", data=b"x", pax_headers={"SCHILY.xattr.security.capability": "\x01\x00\x00\x02",
                                         "SCHILY.xattr.user.k": "v"}),
    info("d" * 120 + "/" + "e" * 120, data=b"long"),
    info("ids", data=b"i", uid=3000000, gid=4000000),
    info("./", tarfile.DIRTYPE, mode=0o700),
])
write("types.tar", types)
write("types.tar.gz", gzip.compress(types, mtime=0))

write("escape.tar", layer([
    info("../x", data=b"x"),
    info("l", tarfile.SYMTYPE, linkname="../outside"),
    info("l/pwn", data=b"p"),
    info("h", tarfile.LNKTYPE, linkname="l/sentinel"),
    info("slash", tarfile.SYMTYPE, linkname="/"),
    info("slash/ignored/x", data=b"i"),
    info("/abs/file", data=b"a"),
]))

whiteouts = layer([
    info("a/", tarfile.DIRTYPE),
    info("a/b", data=b"b"),
    info("a/.wh.b"),
    info("a/.wh..wh..opq"),
    info(".wh.ignored"),
    info("ignored/x", data=b"no"),
    info(".wh..wh..opq"),
    info("c/.wh..wh.plnk"),
    info(".wh..."),
])
write("whiteouts.tar", whiteouts)
if shutil.which("zstd"):
    z = subprocess.run(["zstd", "-q", "-c", "-19"], input=whiteouts, capture_output=True,
                       check=True).stdout
    write("whiteouts.tar.zst", z)

write("replace.gnu.tar", layer([
    info("p/", tarfile.DIRTYPE),
    info("p/c", data=b"c"),
    info("p", data=b"file"),
    info("q", tarfile.SYMTYPE, linkname="/outside"),
    info("q/", tarfile.DIRTYPE),
    info("r/", tarfile.DIRTYPE),
    info("r", tarfile.SYMTYPE, linkname="../../outside"),
    info("r/pwn", data=b"x"),
    info("x" * 150, data=b"gnu longname"),
], fmt=tarfile.GNU_FORMAT))

write("plain.ustar.tar", layer([info("a", data=b"1"), info("a", data=b"2")],
                               fmt=tarfile.USTAR_FORMAT))
write("empty.tar", b"\0" * 1024)
