# SPDX-License-Identifier: Apache-2.0
"""A file server on 127.0.0.1 for ADD <url>: serves one directory with Last-Modified from
each file's mtime (the runner sets it), records the paths asked for."""

import http.server
import os
import threading


class FileServer:
    def __init__(self, directory):
        self.directory = directory
        self.requests = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=server.directory, **kw)

            def log_message(self, fmt, *args):
                server.requests.append(self.path)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
