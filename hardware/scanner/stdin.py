"""Scanner driver reading one code per line from a text stream, stdin by default (hardware)."""

from __future__ import annotations

import queue
import sys
import threading
from typing import TextIO

from hardware.scanner.base import Report

_EOF = object()


class StdinSource:
    """Lines of a text stream; a reader thread makes the wait interruptible by a timeout."""

    name = "stdin"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin
        self._lines: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        if self._thread is None:  # the stream cannot be reopened, so one reader for its life
            self._thread = threading.Thread(target=self._pump, name="scanner-stdin", daemon=True)
            self._thread.start()

    def _pump(self) -> None:
        try:
            for line in self._stream:
                self._lines.put(line)
        except (OSError, ValueError, UnicodeDecodeError) as err:
            self._lines.put(err)
        self._lines.put(_EOF)

    def poll(self, timeout: float, report: Report) -> list[str] | None:
        try:
            item = self._lines.get(timeout=timeout) if timeout > 0 else self._lines.get_nowait()
        except queue.Empty:
            return []
        if item is _EOF:
            self._lines.put(_EOF)  # keep answering "ended"
            return None
        if isinstance(item, Exception):
            report(f"stdin: {item}")
            return []
        text = str(item).strip("\r\n")
        return [text] if text.strip() else []

    def close(self) -> None:
        pass  # the daemon reader ends with the stream; stdin is not ours to close
