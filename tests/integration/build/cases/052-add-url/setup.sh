# a remote archive, to show that ADD does not extract what it downloads
python3 "$MKTAR" "$HTTP_DIR/files/archive.tar.gz" gz
