chmod 0700 conf
