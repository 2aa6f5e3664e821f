"""What a printed queue ticket says, decided from the protocol's ticket message (kiosk, pure).

The station sends a ticket as a `TicketView` dict (check-in answers, `kiosk.print`
jobs); `ticket_content` picks what the resident needs from it, and
`ticket_items` words it and puts it in order, as content items that
`hardware.printer` lays out for the paper and prints:

    content = ticket_content(ticket, station, status_url=client.status_url(ticket["code"]))
    printer.print_ticket(ticket_layout(content, paper_mm=80))

The printer side knows no ticket field and no word; everything a ticket says is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from contracts import i18n
from contracts.names import shown_mask
from hardware.printer.layout import (
    Align,
    Barcode,
    BigText,
    Item,
    Line,
    Logo,
    QrCode,
    Rule,
    TicketLayout,
    clean_text,
)

# What a ticket says, bilingual unless `english=False`: `ticket.<part>` in the catalog.
PARTS = ("priority", "position", "wait_shortly", "wait_minutes", "issued", "slot",
         "scan_to_follow", "keep_ticket")


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def words(part: str, lang: str, **fields: object) -> str:
    return i18n.text(f"ticket.{part}", lang, **fields)


@dataclass(frozen=True)
class TicketContent:
    """The facts one ticket prints, cleaned; empty or None means "not printed"."""

    number: str  # never empty: "?" when the station sent none
    station_name: str = ""
    service_name: str = ""  # the service's name, or its code when the station has no name
    service_name_en: str = ""
    priority: bool = False
    name_masked: str = ""
    position: int | None = None  # only when > 0
    eta_minutes: int | None = None  # only when >= 0; 0 means "shortly"
    issued: str = ""  # "2026-11-27 09:01", or what the station sent when it is not a time
    slot: str = ""
    status_url: str = ""  # the phone status page /t/<code>, printed as the QR code


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _issued_text(value: Any) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return clean_text(value)[:32]  # show what we got rather than nothing


def ticket_content(
    ticket: Mapping[str, Any], station: Mapping[str, Any], *, status_url: str = ""
) -> TicketContent:
    """The content of `ticket` (a TicketView dict), named with `station`.

    `station` is what `StationClient.station_info()` returns: {"name": ...,
    "services": {code: (name, name_en)}}. Any value may be missing or malformed
    (a ticket is printed whatever the station sent); what cannot be read is left out.
    """
    services = station.get("services") or {}
    names = services.get(ticket.get("service"), (None, None))
    position = _as_int(ticket.get("position"))
    eta = _as_int(ticket.get("eta_minutes"))
    return TicketContent(
        number=clean_text(ticket.get("number")) or "?",
        station_name=clean_text(station.get("name")),
        service_name=clean_text(names[0]) or clean_text(ticket.get("service")),
        service_name_en=clean_text(names[1]),
        priority=bool(ticket.get("priority")),
        # the one masked form every screen shows too (contracts/names.py), so paper and screen
        # agree; clean_text below it (the layout's) then finds nothing left to take out
        name_masked=shown_mask(_text_or_none(ticket.get("name_masked"))) or "",
        position=position if position is not None and position > 0 else None,
        eta_minutes=eta if eta is not None and eta >= 0 else None,
        issued=_issued_text(ticket.get("issued_at")),
        slot=clean_text(ticket.get("slot")),
        # a space inside a URL only breaks the QR code's link
        status_url=clean_text(status_url).replace(" ", ""),
    )


def ticket_items(
    content: TicketContent,
    *,
    english: bool = True,
    logo_path: str | None = None,
    show_barcode: bool = False,
) -> list[Item]:
    """The ticket in print order: station, service, number, where you are, QR code, advice."""
    items: list[Item] = []

    def say(key: str, align: Align = "left", **fields: object) -> None:
        items.append(Line(words(key, "zh", **fields), align))
        if english:
            items.append(Line(words(key, "en", **fields), align))

    if logo_path:
        items.append(Logo(str(logo_path)))
    items += [Line(content.station_name, "center", bold=True), Rule()]
    items.append(Line(content.service_name, "center", scale=2, bold=True))
    if english:
        items.append(Line(content.service_name_en, "center"))
    items.append(BigText(content.number))
    if content.priority:
        label = words("priority", "zh") + (f" / {words('priority', 'en')}" if english else "")
        items.append(Line(label, "center", bold=True))
    items += [Line(content.name_masked, "center"), Rule()]
    if content.position is not None:
        say("position", position=content.position)
    if content.eta_minutes == 0:
        say("wait_shortly")
    elif content.eta_minutes is not None:
        say("wait_minutes", minutes=content.eta_minutes)
    if content.issued:
        say("issued", issued=content.issued)
    if content.slot:
        say("slot", slot=content.slot)
    if content.status_url:
        items.append(Rule())
        say("scan_to_follow", "center")
        items.append(QrCode(content.status_url))
    if show_barcode:
        items.append(Barcode(content.number))  # left out by the layout when it cannot scan
    items.append(Rule())
    say("keep_ticket", "center")
    return items


def ticket_layout(
    content: TicketContent,
    *,
    paper_mm: int = 80,
    english: bool = True,
    logo_path: str | None = None,
    show_barcode: bool = False,
    columns: int | None = None,
    dots: int | None = None,
) -> TicketLayout:
    """The ticket laid out for the paper, labelled with its number (preview file names)."""
    items = ticket_items(content, english=english, logo_path=logo_path, show_barcode=show_barcode)
    return TicketLayout.build(items, paper_mm=paper_mm, columns=columns, dots=dots,
                              label=content.number)


SAMPLE_TICKET: dict[str, Any] = {
    "id": "t_sample", "number": "V012", "service": "V", "status": "waiting", "position": 3,
    "eta_minutes": 12, "counter": None, "booking_id": "b123", "slot": "09:00-09:30",
    "priority": False, "name_masked": "张*三",
}
SAMPLE_STATION: dict[str, Any] = {
    "name": "幸福社区卫生服务站", "services": {"V": ("接种", "Vaccination")},
}
SAMPLE_URL = "http://127.0.0.1:5000/t/AbC123xyz"


def sample_layout(paper_mm: int, show_barcode: bool) -> TicketLayout:
    """The sample ticket `clinicq printer test` prints, issued now (China Standard Time)."""
    now = datetime.now(timezone(timedelta(hours=8)))
    ticket = {**SAMPLE_TICKET, "issued_at": now.isoformat(timespec="seconds")}
    content = ticket_content(ticket, SAMPLE_STATION, status_url=SAMPLE_URL)
    return ticket_layout(content, paper_mm=paper_mm, show_barcode=show_barcode)
