"""Loopback static server for the render benches: tests/fixtures/pages plus
the sub-resources the pages name (/img/*, /fonts/fixture.ttf, /slow.txt).
Prints its port on the first line of stdout."""

import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(sys.argv[1])
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real site would

    def __init__(self, *a, **kw):
        super().__init__(*a, directory=ROOT, **kw)

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        if path == "/fonts/fixture.ttf":
            return FONT
        if path.startswith("/img/"):
            path = path[len("/img"):]
        return super().translate_path(path)

    def log_message(self, *a):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
