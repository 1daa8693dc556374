# modes git cannot keep: a 0700 directory, a 0600 and a 0755 file, a context owner of 1000
chmod 0700 tree/sub/deeper
chmod 0600 tree/sub/s.txt
chmod 0755 tree/f.txt
chown -R 1000:1000 tree
