"""Tests of the preview driver: the PNG looks like the printout and its codes scan."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from hardware.printer import PreviewPrinter, TicketLayout, open_printer
from hardware.printer.layout import PAPER, Barcode, BigText, Item, Line, Logo, QrCode, Rule
from hardware.printer.raster import DOTS_PER_MM
from hardware.scanner.decode import decode_codes

URL = "http://127.0.0.1:5000/t/AbC123xyz"


def ticket(paper: int = 80, *, logo: str | None = None, label: str = "V012") -> TicketLayout:
    items: list[Item] = [Logo(logo)] if logo else []
    items += [Line("幸福社区卫生服务站", "center", bold=True), Rule(),
              Line("接种", "center", scale=2, bold=True), BigText("V012"), Rule(),
              Line("预计等候：约 12 分钟"), QrCode(URL), Barcode("V012")]
    return TicketLayout.build(items, paper_mm=paper, label=label)


@pytest.mark.parametrize("paper", [58, 80])
def test_preview_png_scans_as_the_status_url(tmp_path: Path, paper: int) -> None:
    printer = open_printer(f"preview:{tmp_path}")
    assert isinstance(printer, PreviewPrinter)
    layout = ticket(paper)
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
        layout = ticket(logo=str(path))
        printer.print_ticket(layout)  # a missing logo is logged, never fatal
    with Image.open(printer.paths[0]) as a, Image.open(printer.paths[1]) as b:
        assert a.height > b.height


def test_preview_file_names_come_from_the_label(tmp_path: Path) -> None:
    printer = PreviewPrinter(tmp_path)
    for label in ("A 1/../x", ""):
        printer.print_ticket(ticket(label=label))
    assert [p.name for p in printer.paths] == ["0001-A_1____x.png", "0002-ticket.png"]


def test_unwritable_preview_directory_is_offline(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert PreviewPrinter(blocker / "sub").status().state == "offline"
