#!/bin/sh
echo "serving $(pwd)/index.html on port ${APP_PORT} as $(id -un)"
cat index.html
