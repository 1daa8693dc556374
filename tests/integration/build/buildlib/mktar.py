#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the test archive that ADD cases extract, deterministically (fixed times, owners,
order), so that owners, modes, links and times can be checked after extraction:

  top/                 dir   0755 1000:1000
  top/file.txt         file  0644 1000:1000  "in the archive\\n"
  top/exec.sh          file  0755 0:0        "#!/bin/sh\\necho archived\\n"
  top/private          file  0600 2000:2000  "private\\n"
  top/link             symlink -> file.txt
  top/hard             hard link of top/file.txt
  top/sub/             dir   0750 0:0
  top/sub/deep.txt     file  0644 0:0        "deep\\n"
every mtime 1600000000.

usage: mktar.py OUT none|gz|bz2|xz|zst"""

import io
import subprocess
import sys
import tarfile

MTIME = 1600000000


def entries():
    def info(name, kind, mode, uid, gid, data=b"", link=None):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, gid, MTIME
        ti.uname = ti.gname = ""
        if link is not None:
            ti.linkname = link
        ti.size = len(data)
        return ti, (io.BytesIO(data) if data else None)

    return [info("top", tarfile.DIRTYPE, 0o755, 1000, 1000),
            info("top/file.txt", tarfile.REGTYPE, 0o644, 1000, 1000, b"in the archive\n"),
            info("top/exec.sh", tarfile.REGTYPE, 0o755, 0, 0, b"#!/bin/sh\necho archived\n"),
            info("top/private", tarfile.REGTYPE, 0o600, 2000, 2000, b"private\n"),
            info("top/link", tarfile.SYMTYPE, 0o777, 0, 0, link="file.txt"),
            info("top/hard", tarfile.LNKTYPE, 0o644, 1000, 1000, link="top/file.txt"),
            info("top/sub", tarfile.DIRTYPE, 0o750, 0, 0),
            info("top/sub/deep.txt", tarfile.REGTYPE, 0o644, 0, 0, b"deep\n")]


def main(out, comp):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in entries():
            t.addfile(ti, data)
    data = raw.getvalue()
    if comp == "gz":
        import gzip
        data = gzip.compress(data, mtime=0)
    elif comp == "bz2":
        import bz2
        data = bz2.compress(data)
    elif comp == "xz":
        import lzma
        data = lzma.compress(data)
    elif comp == "zst":
        data = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                              check=True).stdout
    elif comp != "none":
        sys.exit(f"mktar.py: unknown compression '{comp}'")
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
