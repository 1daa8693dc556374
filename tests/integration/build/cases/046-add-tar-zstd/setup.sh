# the archive is made at run time: git cannot keep its owners
python3 "$MKTAR" archive.tar.zst zst
