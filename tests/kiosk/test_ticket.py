"""Tests of kiosk.ticket: what a printed ticket says, from the station's ticket message."""

from __future__ import annotations

import pytest

from contracts import i18n
from hardware.printer import FakePrinter, TicketLayout
from hardware.printer.layout import Barcode, Line, Logo, Qr, Text
from hardware.printer.readback import parse
from kiosk.ticket import (
    PARTS,
    SAMPLE_URL,
    TicketContent,
    sample_layout,
    ticket_content,
    ticket_items,
    ticket_layout,
    words,
)

URL = "http://127.0.0.1:5000/t/AbC123xyz"
STATION = {"name": "幸福社区卫生服务站", "name_en": "", "services": {"V": ("接种", "Vaccination")}}
TICKET = {  # a TicketView dict, as a check-in answer or a kiosk.print job carries it
    "id": "t_1", "number": "V012", "service": "V", "status": "waiting", "position": 3,
    "eta_minutes": 12, "counter": None, "booking_id": "b123", "slot": "09:00-09:30",
    "issued_at": "2026-11-27T09:01:02+08:00", "called_at": None, "priority": False,
    "name_masked": "张*三", "code": "AbC123xyz",
}


def layout(paper: int = 80, station: dict[str, object] = STATION, url: str = URL,
           **changes: object) -> TicketLayout:
    content = ticket_content({**TICKET, **changes}, station, status_url=url)
    return ticket_layout(content, paper_mm=paper)


def test_the_ticket_reads_exactly_so() -> None:
    printer = FakePrinter()
    printer.print_ticket(layout())
    assert parse(printer.output).text_lines == [
        "幸福社区卫生服务站", "-" * 48, "接种", "Vaccination", "V012", "张*三", "-" * 48,
        "排队位置：第 3 位", "Position in queue: 3",
        "预计等候：约 12 分钟", "Estimated wait: about 12 min",
        "取号时间：2026-11-27 09:01", "Issued: 2026-11-27 09:01",
        "预约时段：09:00-09:30", "Booked slot: 09:00-09:30", "-" * 48,
        "扫码查看排队进度", "Scan to follow your place in the queue", "", "-" * 48,
        "过号请到服务台。请保留此票。",
        "Missed your call? Please go to the service desk.", "Keep this ticket.",  # 48 cells
    ]


def test_content_is_picked_from_the_ticket_message() -> None:
    content = ticket_content(TICKET, STATION, status_url=URL)
    assert content == TicketContent(
        number="V012", station_name="幸福社区卫生服务站", service_name="接种",
        service_name_en="Vaccination", name_masked="张*三", position=3, eta_minutes=12,
        issued="2026-11-27 09:01", slot="09:00-09:30", status_url=URL,
    )


def test_qr_code_is_the_phone_status_page_and_the_label_the_number() -> None:
    lay = layout()
    assert lay.qr_payloads() == [URL] and lay.label == "V012"
    assert layout(url="").qr_payloads() == [] and "扫码" not in layout(url="").text()
    assert layout(url=" http://x/t/a b ").qr_payloads() == ["http://x/t/ab"]


def test_number_is_the_biggest_text() -> None:
    blocks = [b for b in layout().blocks if isinstance(b, Text)]
    biggest = max(blocks, key=lambda b: b.scale)
    assert biggest.lines == ("V012",) and biggest.scale >= 4


def test_chinese_only_leaves_english_out() -> None:
    content = ticket_content({**TICKET, "priority": True}, STATION, status_url=URL)
    text = ticket_layout(content, english=False).text()
    assert "Vaccination" not in text and "Position" not in text and "Priority" not in text
    assert "接种" in text and "优先" in text.splitlines()
    assert "优先 / Priority" in ticket_layout(content).text().splitlines()


def test_optional_parts() -> None:
    plain = layout(slot=None, name_masked=None, position=None, eta_minutes=None, issued_at=None)
    assert "预约" not in plain.text() and "排队位置" not in plain.text()
    assert "预计等候" not in plain.text() and "取号时间" not in plain.text()
    assert not any(isinstance(b, Barcode | Logo) for b in plain.blocks)
    content = ticket_content(TICKET, STATION, status_url=URL)
    full = ticket_layout(content, show_barcode=True, logo_path="/x/logo.png")
    assert Barcode("V012") in full.blocks and full.blocks[0] == Logo("/x/logo.png")


@pytest.mark.parametrize(("eta", "expected"), [
    (0, "预计等候：即将叫号"), (12, "预计等候：约 12 分钟"), ("7", "约 7 分钟"),
    (-3, None), ("x", None),
])
def test_wait_wording(eta: object, expected: str | None) -> None:
    text = layout(eta_minutes=eta).text()
    if expected is None:
        assert "预计等候" not in text
    else:
        assert expected in text


def test_service_without_a_name_prints_its_code() -> None:
    text = layout(station={"name": "站", "services": {}}).text()
    assert "V" in text.splitlines() and "Vaccination" not in text


def test_unreachable_station_still_gives_a_ticket() -> None:
    # what the agent uses when the station's names cannot be fetched
    lay = layout(station={"name": "", "name_en": "", "services": {}})
    assert lay.text().splitlines()[0] == "V"


BAD_TICKETS = [
    pytest.param({"position": None, "eta_minutes": None, "issued_at": None, "slot": None,
                  "name_masked": None, "number": ""}, "?", id="empty-optional-fields"),
    pytest.param({"issued_at": "yesterday", "position": "x", "eta_minutes": -3}, "yesterday",
                 id="garbage-values"),
    pytest.param({"number": "V\u00e9\u0301012"}, "Ve012", id="combining-in-number"),
    pytest.param({"name_masked": "李\x1b@*"}, "李@*", id="control-chars-in-name"),
    pytest.param({"slot": "  09:00 -\t09:30 "}, "预约时段：09:00 - 09:30", id="odd-spaces"),
]


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("mode", ["text", "raster"])
@pytest.mark.parametrize(("changes", "expected"), BAD_TICKETS)
def test_bad_ticket_never_raises_nor_makes_invalid_bytes(
    changes: dict[str, object], expected: str, mode: str, paper: int
) -> None:
    printer = FakePrinter(chinese_mode=mode)  # type: ignore[arg-type]
    printer.print_ticket(layout(paper, **changes))
    stream = parse(printer.output)  # raises on any byte a printer would misread
    assert stream.cuts == 1 and stream.qr_payloads == [URL]
    if mode == "text":
        assert expected in "".join(stream.text_lines), stream.text_lines


def test_every_word_has_chinese_and_english_and_is_used() -> None:
    assert all(i18n.has(f"ticket.{part}", lang) for part in PARTS for lang in i18n.LANGUAGES)
    content = TicketContent(number="V1", priority=True, position=1, eta_minutes=5,
                            issued="x", slot="y", status_url=URL)
    items = ticket_items(content) + ticket_items(TicketContent(number="V1", eta_minutes=0))
    printed = "\n".join(item.text for item in items if isinstance(item, Line))
    for part in PARTS:
        for lang in i18n.LANGUAGES:
            assert words(part, lang).split("{")[0] in printed, (part, lang)


@pytest.mark.parametrize("paper", [58, 80])
def test_sample_ticket_for_clinicq_printer_test(paper: int) -> None:
    lay = sample_layout(paper, True)
    assert lay.paper_mm == paper and lay.label == "V012" and lay.qr_payloads() == [SAMPLE_URL]
    assert Barcode("V012") in lay.blocks and any(isinstance(b, Qr) for b in lay.blocks)
    assert "取号时间" in lay.text() and "接种" in lay.text()
