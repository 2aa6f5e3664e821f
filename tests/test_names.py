"""contracts/names.py, and names through the station's public paths: a name with invisible or
direction characters reaches every screen and the printed ticket as the same masked text."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from support import DISPLAY, KIOSK, TZ
from test_sync import FeedPlatform, entry, make_sync

from contracts.bookingcode import BookingClaims, sign_booking
from contracts.demo import DEMO_KEY_ID, demo_private_key
from contracts.names import clean_name, mask_name, name_clusters, shown_mask
from hardware.printer import FakePrinter
from hardware.printer.layout import clean_text
from hardware.printer.readback import parse
from kiosk.ticket import ticket_content, ticket_layout

DAY = date(2026, 11, 27)
END_OF_DAY = int(datetime(2026, 11, 28, tzinfo=TZ).timestamp())
INVISIBLE = ("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062"
             "\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\ufe0f\U000e0100\x00\x1b\x7f\ue000")


@pytest.mark.parametrize("name, cleaned, masked", [
    ("张三丰", "张三丰", "张*丰"), ("张三", "张三", "张*"), ("李", "李", "李*"),
    ("欧阳娜娜", "欧阳娜娜", "欧*娜"), ("Anna Li", "Anna Li", "A*i"), ("", "", ""),
    ("\u202eAnna Li", "Anna Li", "A*i"),            # the example: not "\u202e*i"
    ("\u200b\u200b\u200b", "", ""),                 # the blank name
    ("Anna\u200b Li\u202c", "Anna Li", "A*i"),
    ("  张\u3000 三\t丰\n", "张 三 丰", "张*丰"),     # every kind of space: one, none at the ends
    ("张\u200b\u200d三丰", "张三丰", "张*丰"),
    ("王\ufe0f小明\U000e0100", "王小明", "王*明"),   # variation selectors
    ("\u0301Zox\u0301", "Zox\u0301", "Z*x\u0301"),  # a mark with no letter left goes
    ("Jose\u0301", "José", "J*é"),                  # NFC
    ("𠀀𪚥龘", "𠀀𪚥龘", "𠀀*龘"),                      # beyond the BMP: one each
    ("\u3164\uffa0", "", ""),                       # Hangul fillers draw nothing
    ("A\u2028B\u2029C", "A B C", "A*C"),
])
def test_clean_and_mask(name: str, cleaned: str, masked: str) -> None:
    assert clean_name(name) == cleaned
    assert mask_name(name) == masked
    assert shown_mask(masked) == (masked or None)


def test_shown_mask_repairs_what_an_older_platform_sent() -> None:
    assert shown_mask("\u202eA*i") == "A*i"
    assert shown_mask("\u200b") is None and shown_mask("") is None and shown_mask(None) is None
    assert shown_mask("王 *") == "王*"


@hsettings(max_examples=400, deadline=None)
@given(st.text(max_size=40) | st.lists(st.sampled_from(list(INVISIBLE) + ["a", "张", " "]))
       .map("".join))
def test_cleaning_leaves_nothing_invisible_and_is_stable(name: str) -> None:
    cleaned = clean_name(name)
    assert all(ch not in INVISIBLE for ch in cleaned)
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn") for ch in cleaned)
    assert clean_name(cleaned) == cleaned and cleaned == cleaned.strip()
    assert "  " not in cleaned
    masked = mask_name(name)
    assert len(name_clusters(masked)) <= 3 and (masked == "") == (cleaned.strip() == "")
    # the printer's own cleaning finds nothing left to take out: paper shows the screen's text
    shown = shown_mask(masked) or ""
    assert clean_text(shown) == shown and shown_mask(shown) == (shown or None)


# through the station ---------------------------------------------------------------------

STATION = {"name": "测试站", "services": {"V": ("接种", "Vaccination"),
                                          "A": ("全科", "General")}}


def printed(ticket: dict[str, Any]) -> list[str]:
    """The printed ticket's text lines, read back from the bytes the printer was sent."""
    printer = FakePrinter()
    printer.print_ticket(ticket_layout(ticket_content(ticket, STATION, status_url="http://x/t/1"),
                                       paper_mm=80))
    return parse(printer.output).text_lines  # type: ignore[no-any-return]


def signed(booking_id: str, masked: str) -> str:
    """A QR code as a platform that did not clean the name would sign it."""
    claims = BookingClaims(booking_id, "demo-station", "V", DAY, 9 * 60, 9 * 60 + 30,
                           END_OF_DAY, masked, False)
    return sign_booking(claims, demo_private_key(), DEMO_KEY_ID)


def on_screens(client: FlaskClient, ticket_id: str, nurse: dict[str, str]) -> set[Any]:
    """The masked name of a ticket as the display, the kiosk and the console get it."""
    shown = set()
    for headers in (DISPLAY, KIOSK, nurse):
        state = client.get("/api/v1/state", headers=headers).get_json()
        shown |= {t["name_masked"] for s in state["services"] for t in s["tickets"]
                  if t.get("id") in (ticket_id, None) and t["number"]}
        shown |= {c["name_masked"] for c in state.get("recent_calls", [])}
    return shown


def test_a_signed_code_with_a_direction_override_shows_and_prints_the_same(
        client: FlaskClient, nurse: dict[str, str]) -> None:
    r = client.post("/api/v1/checkins", json={"code": signed("QR1", "\u202e李*")},
                    headers=KIOSK)
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()
    assert ticket["name_masked"] == "李*"
    assert "李*" in printed(ticket)
    assert on_screens(client, ticket["id"], nurse) == {"李*"}
    assert not any("\u202e" in line for line in printed(ticket))


def test_a_code_with_only_zero_width_spaces_has_no_name_anywhere(
        client: FlaskClient, nurse: dict[str, str]) -> None:
    r = client.post("/api/v1/checkins", json={"code": signed("QR2", "\u200b\u200b")},
                    headers=KIOSK)
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()
    assert ticket["name_masked"] is None
    lines = printed(ticket)
    assert not any("\u200b" in line for line in lines)
    assert lines[:5] == printed({**ticket, "name_masked": None})[:5]  # no blank name line
    assert on_screens(client, ticket["id"], nurse) == {None}


def test_the_feed_and_booking_assist_keep_the_cleaned_name(app: Flask, client: FlaskClient,
                                                          nurse: dict[str, str]) -> None:
    platform = FeedPlatform([{**entry(1), "name_masked": "\u202e王\u200b*明\ufeff"},
                             {**entry(2), "name_masked": "\u200b", "phone_last4": "7777"}])
    make_sync(app, platform).pull_feed()
    store = app.extensions["clinicq"].store
    assert store.booking("F1")["name_masked"] == "王*明"
    assert store.booking("F2")["name_masked"] is None
    found = client.get("/api/v1/bookings?q=1001", headers=nurse).get_json()["bookings"]
    assert [b["name_masked"] for b in found] == ["王*明"]
    r = client.post("/api/v1/bookings/F1/checkin", headers=nurse)
    assert r.status_code == 201 and r.get_json()["name_masked"] == "王*明", r.get_json()
    assert "王*明" in printed(r.get_json())
    blank = client.post("/api/v1/bookings/F2/checkin", headers=nurse).get_json()
    assert blank["name_masked"] is None and blank["number"]


def test_a_full_name_entering_the_store_is_cleaned_and_masked(app: Flask) -> None:
    store = app.extensions["clinicq"].store
    store.upsert_bookings([{"id": "L1", "code": "L-1", "service": "A", "day": "2026-11-27",
                            "status": "booked", "name": "\u202e张\u200b三丰 ",
                            "name_masked": None}])
    row = store.booking("L1")
    assert (row["name"], row["name_masked"]) == ("张三丰", "张*丰")
