"""A small local HTTP service that answers like a partner's integration, for the demo and the tests.

``GET /health`` and ``GET /api/v1/status`` answer 200 with a JSON body; every other path answers 404.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTHY_PATHS = ("/health", "/api/v1/status")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path in HEALTHY_PATHS
        body = json.dumps({"status": "ok" if ok else "not found", "path": self.path}).encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: the demo prints its own progress


@contextmanager
def serve_health(port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Serves the health endpoints on `host`:`port` (0: any free port) and yields the base URL."""
    server = ThreadingHTTPServer((host, port), _Handler)
    thread = threading.Thread(target=server.serve_forever, name="link-ops-health", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
