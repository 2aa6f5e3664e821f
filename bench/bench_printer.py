"""Benchmark of ticket printing: ticket -> layout -> ESC/POS bytes (text, raster), PNG (bench).

Prints one JSON line per figure: {"name", "value", "unit", "n"}.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.printer.escpos_bytes import encode_ticket  # noqa: E402
from hardware.printer.raster import render_preview  # noqa: E402
from kiosk.ticket import ticket_content, ticket_layout  # noqa: E402

RUNS = 300
TICKET = {
    "id": "t_1", "number": "V012", "service": "V", "status": "waiting", "position": 3,
    "eta_minutes": 12, "counter": None, "booking_id": "b123", "slot": "09:00-09:30",
    "issued_at": "2026-11-27T09:01:02+08:00", "priority": False, "name_masked": "张*三",
}
STATION = {"name": "幸福社区卫生服务站", "services": {"V": ("接种", "Vaccination")}}
URL = "http://127.0.0.1:5000/t/AbC123xyz"


def timings(fn: Callable[[], object], runs: int = RUNS) -> list[float]:
    fn()  # warm caches (font, glyphs) once, as a running kiosk has them
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return sorted(out)


def emit(name: str, value: float, unit: str, n: int) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "n": n}))


def main() -> None:
    layout = ticket_layout(ticket_content(TICKET, STATION, status_url=URL), paper_mm=80)
    for mode in ("text", "raster"):
        ms = timings(lambda mode=mode: encode_ticket(layout, mode=mode))
        emit(f"layout_to_bytes_{mode}_p50", statistics.median(ms), "ms", len(ms))
        emit(f"layout_to_bytes_{mode}_p99", ms[int(len(ms) * 0.99) - 1], "ms", len(ms))
        emit(f"bytes_per_ticket_{mode}", len(encode_ticket(layout, mode=mode)), "bytes", 1)

    def from_dict() -> bytes:
        fresh = ticket_layout(ticket_content(TICKET, STATION, status_url=URL), paper_mm=80)
        return encode_ticket(fresh, mode="text")

    ms = timings(from_dict)
    emit("ticket_dict_to_bytes_text_p50", statistics.median(ms), "ms", len(ms))

    def preview() -> None:
        render_preview(layout).save(io.BytesIO(), "PNG")

    ms = timings(preview, 200)
    emit("preview_png_render_p50", statistics.median(ms), "ms", len(ms))


if __name__ == "__main__":
    main()
