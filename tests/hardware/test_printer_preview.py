"""Tests of the preview driver: the PNG looks like the printout and its codes scan."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from hardware.printer import PreviewPrinter, TicketLayout, open_printer
from hardware.printer.layout import PAPER
from hardware.printer.raster import DOTS_PER_MM
from hardware.scanner.decode import decode_codes

URL = "http://127.0.0.1:5000/t/AbC123xyz"
TICKET = {
    "id": "t_1", "number": "V012", "service": "V", "service_name": "接种",
    "service_name_en": "Vaccination", "position": 3, "eta_minutes": 12,
    "issued_at": "2026-11-27T09:01:02+08:00", "slot": "09:00-09:30",
}


@pytest.mark.parametrize("paper", [58, 80])
def test_preview_png_scans_as_the_status_url(tmp_path: Path, paper: int) -> None:
    printer = open_printer(f"preview:{tmp_path}")
    assert isinstance(printer, PreviewPrinter)
    layout = TicketLayout.from_ticket(
        TICKET, station_name="幸福社区卫生服务站", status_url=URL, paper_mm=paper,
        show_barcode=True,
    )
    printer.print_ticket(layout)
    printer.print_ticket(layout)
    assert [p.name for p in printer.paths] == ["0001-V012.png", "0002-V012.png"]
    with Image.open(printer.paths[0]) as img:
        assert img.width == max(paper * DOTS_PER_MM, PAPER[paper][1] + 16)
        codes = decode_codes(img.convert("L"))
    assert URL in codes and "V012" in codes
    assert printer.printed == [layout, layout] and printer.status().state == "ready"


def test_preview_with_logo_and_missing_logo(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (900, 300), "red").save(logo)
    printer = PreviewPrinter(tmp_path / "out")
    for path in (logo, tmp_path / "missing.png"):
        layout = TicketLayout.from_ticket(
            TICKET, station_name="站", status_url=URL, logo_path=str(path)
        )
        printer.print_ticket(layout)  # a missing logo is logged, never fatal
    with Image.open(printer.paths[0]) as a, Image.open(printer.paths[1]) as b:
        assert a.height > b.height


def test_unwritable_preview_directory_is_offline(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert PreviewPrinter(blocker / "sub").status().state == "offline"
