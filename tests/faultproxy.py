"""A misbehaving link for the sync fault tests: a real HTTP proxy on 127.0.0.1 in front of the
real platform, told by the test how to fail.

Modes (`proxy.mode = ...`):
- `"pass"`: forward and answer as the platform did;
- `("status", code, headers)`: answer `code` without asking the platform;
- `("hang", seconds)`: say nothing for `seconds`, then close (the station's timeout fires);
- `"drop_after_forward"`: forward the request (the platform commits it), then close the
  connection without an answer, as a link that dies at the worst moment;
- `"refuse"`: close the connection at once.
`only` limits the misbehaviour to paths containing that text; other requests pass.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.mode: Any = "pass"
        self.only: str | None = None
        self.seen: list[tuple[str, str, Any]] = []  # (method, path, mode applied)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                mode = proxy.mode if (proxy.only is None or proxy.only in self.path) else "pass"
                with proxy._lock:
                    proxy.seen.append((self.command, self.path, mode))
                if mode == "refuse":
                    self._cut()
                    return
                if isinstance(mode, tuple) and mode[0] == "status":
                    self._answer(mode[1], dict(mode[2]) if len(mode) > 2 else {}, b"{}")
                    return
                if isinstance(mode, tuple) and mode[0] == "hang":
                    time.sleep(mode[1])
                    self._cut()
                    return
                status, headers, data = proxy._forward(self.command, self.path,
                                                       dict(self.headers), body)
                if mode == "drop_after_forward":
                    self._cut()
                    return
                self._answer(status, headers, data)

            def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                if "content-type" not in {k.lower() for k in headers}:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

            def _cut(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _forward(self, method: str, path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def count(self, text: str, mode: Any = None) -> int:
        with self._lock:
            return sum(1 for _m, p, applied in self.seen
                       if text in p and (mode is None or applied == mode))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
