chmod 0644 f.txt d/s/y
chmod 0755 x.sh d d/s
