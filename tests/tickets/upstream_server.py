"""A fake upper platform (or SMS gateway) on 127.0.0.1: refuses (503) the first attempts, records
idempotency keys."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Upstream:
    def __init__(self, refuse_first: int = 0):
        self.refuse_first = refuse_first
        self.attempts = 0
        self.received: dict[str, dict] = {}  # idempotency key → payload (recorded once)
        self.deliveries: list[str] = []  # every accepted POST's key, duplicates included
        self.authorizations: list[str] = []  # every POST's Authorization header ("" when absent)
        self.lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                with upstream.lock:
                    upstream.attempts += 1
                    upstream.authorizations.append(self.headers.get("Authorization", ""))
                    refuse = upstream.attempts <= upstream.refuse_first
                    if not refuse:
                        upstream.deliveries.append(key)
                        upstream.received.setdefault(key, json.loads(body))
                self.send_response(503 if refuse else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": false}' if refuse else b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/replies"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
