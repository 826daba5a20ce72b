"""A small local HTTP service that answers like a partner's integration, for the demo and the tests.

``GET /health`` and ``GET /api/v1/status`` answer 200 with a JSON body; every other path answers 404. By
hand, it serves ``partners/example.yaml``'s endpoints (port 8765) until interrupted::

    python -m link_ops.testing.health            # --port 8765 --host 127.0.0.1
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTHY_PATHS = ("/health", "/api/v1/status")
#: The port ``partners/example.yaml`` points at.
EXAMPLE_PORT = 8765


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


def main(argv: Sequence[str] | None = None) -> None:
    """Serves the health endpoints in the foreground until Ctrl-C (``python -m link_ops.testing.health``)."""
    parser = argparse.ArgumentParser(prog="python -m link_ops.testing.health", description=__doc__)
    parser.add_argument("--port", type=int, default=EXAMPLE_PORT, help="default: %(default)s")
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        server = ThreadingHTTPServer((args.host, args.port), _Handler)
    except OSError as exc:
        parser.exit(1, f"cannot serve on {args.host}:{args.port} ({exc.strerror}): pass another --port\n")
    base = f"http://{args.host}:{server.server_address[1]}"
    print(f"serving {', '.join(base + path for path in HEALTHY_PATHS)} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
