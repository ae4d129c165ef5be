"""A local HTTP server for API doubles: JSON request bodies in, JSON replies out, a thread per request."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: reply(path, body) -> (HTTP status, JSON payload)
Reply = Callable[[str, dict], tuple[int, Any]]


class _Server(ThreadingHTTPServer):
    # a burst of concurrent episodes must not overflow listen()'s default backlog of 5 (a dropped SYN
    # costs a 1 s retransmit)
    request_queue_size = 128
    daemon_threads = True


class JSONServer:
    """Serves `reply` on 127.0.0.1 at a free port; `base_url` ends in /v1, as OpenAI clients expect."""

    def __init__(self, reply: Reply) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload = reply(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
