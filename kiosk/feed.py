"""A localhost-only HTTP endpoint feeding codes to the kiosk agent as if scanned (kiosk deployable).

For demos and for kiosks without a working scanner: `curl -d DEMO-V001 http://127.0.0.1:5301/scan`
or the small form at `/`. It listens on 127.0.0.1 only, because whoever can reach it can check
residents in.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

MAX_BYTES = 2048  # a BK1 booking code is about 180 characters

_FORM = """<!doctype html><meta charset="utf-8"><title>clinicq kiosk: feed a scan</title>
<h1>Feed the kiosk agent a scanned code</h1>
<form method="post" action="/scan"><input name="code" size="60" autofocus
placeholder="DEMO-V001 or a BK1: booking code"> <button>Scan</button></form>
<p>{note}</p><p>Or: <code>curl -d DEMO-V001 http://127.0.0.1:{port}/scan</code></p>
"""


class FeedServer:
    """Puts each POSTed code on `codes`; `close()` stops it."""

    def __init__(self, codes: queue.Queue[str], port: int = 0, host: str = "127.0.0.1") -> None:
        self.codes = codes
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                log.debug("feed: " + format, *args)

            def _answer(self, status: int, text: str, kind: str = "text/plain") -> None:
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path not in ("/", "/scan"):
                    self._answer(404, "not found\n")
                    return
                self._answer(200, _FORM.format(note="", port=feed.port), "text/html")

            def do_POST(self) -> None:  # noqa: N802
                if self.path != "/scan":
                    self._answer(404, "not found\n")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BYTES:
                    self._answer(413, "too long for a booking code\n")
                    return
                raw = self.rfile.read(length).decode("utf-8", "replace")
                # the form sends code=...; `curl -d TEXT` sends the bare text, labelled as a
                # form too, so a body without a code field is the code itself
                form = "code" in (fields := parse_qs(raw)) and self.headers.get(
                    "Content-Type", "").startswith("application/x-www-form-urlencoded")
                code = (fields["code"][0] if form else raw).strip()
                if not code:
                    self._answer(400, "empty code\n")
                    return
                feed.codes.put(code)
                if form:
                    note = f"Fed {html.escape(code[:40])}; watch the kiosk screen."
                    self._answer(200, _FORM.format(note=note, port=feed.port), "text/html")
                else:
                    self._answer(202, "queued\n")

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="kiosk-feed",
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
