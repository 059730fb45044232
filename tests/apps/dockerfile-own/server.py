"""A stdlib-only HTTP server: proves Dockyard built this app's own Dockerfile."""

import json
import os
import platform
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "5000"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/":
            self._send(200, "text/plain", "hello from dockerfile-own\n")
        elif self.path == "/port":
            self._send(200, "text/plain", f"{PORT}\n")
        elif self.path == "/info":
            body = json.dumps({"port": PORT, "python": platform.python_version()})
            self._send(200, "application/json", body)
        else:
            self._send(404, "text/plain", "not found\n")

    def _send(self, status, content_type, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    print(f"listening on 0.0.0.0:{PORT}", flush=True)
    server.serve_forever()
