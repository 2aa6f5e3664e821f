"""Scanner driver decoding a folder's image files, old ones first, then new ones (hardware layer).

It stands in for a camera in tests and demos: drop a photo into the folder
and it is "scanned".
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from hardware.scanner.base import Report
from hardware.scanner.decode import decode_codes
from hardware.scanner.errors import ScannerError, ScannerUnavailable

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".pgm", ".ppm"}
)


def _name_order(path: Path) -> list[object]:
    # natural order, so 9.png comes before 10.png
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


class ImagesSource:
    """Each image file is decoded once, in name order; the folder is rescanned for new ones."""

    def __init__(
        self, folder: str | os.PathLike[str], *, engine: str = "zxing", interval: float = 0.1
    ) -> None:
        self.folder = Path(folder)
        self.engine = engine
        self.name = f"images:{folder}"
        self._interval = interval
        self._done: set[str] = set()
        # a new file is decoded only once its size and mtime held still for one
        # rescan, so a photo that is still being copied is not reported as corrupt
        self._seen_stat: dict[str, tuple[int, int]] = {}
        self._ready_at_open: set[str] = set()

    def open(self) -> None:
        files = self._list()
        self._ready_at_open = {p.name for p in files}

    def _list(self) -> list[Path]:
        try:
            entries = list(os.scandir(self.folder))
        except OSError as err:
            raise ScannerUnavailable(f"{self.name}: cannot list the folder: {err}") from err
        files = [
            Path(e.path)
            for e in entries
            if not e.name.startswith(".")
            and Path(e.name).suffix.lower() in IMAGE_SUFFIXES
            and e.is_file()
        ]
        return sorted(files, key=_name_order)

    def _ready(self, path: Path) -> bool:
        if path.name in self._ready_at_open:
            return True
        try:
            st = path.stat()
        except OSError:
            return False  # deleted again before we got to it
        stamp = (st.st_size, st.st_mtime_ns)
        previous = self._seen_stat.get(path.name)
        self._seen_stat[path.name] = stamp
        return previous == stamp

    def poll(self, timeout: float, report: Report) -> list[str] | None:
        deadline = time.monotonic() + timeout
        while True:
            for path in self._list():
                if path.name in self._done or not self._ready(path):
                    continue
                self._done.add(path.name)
                self._seen_stat.pop(path.name, None)
                try:
                    codes = decode_codes(path, engine=self.engine)
                except ScannerError as err:
                    report(f"{self.name}: {err}")
                    continue
                if codes:
                    return codes
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            time.sleep(min(remaining, self._interval))

    def close(self) -> None:
        pass
