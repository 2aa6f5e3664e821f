"""Tests for central/demo.py (seeded data) and central/cli.py (arguments and help)."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import pytest

from central.app import create_app
from central.cli import build_parser, main
from central.demo import DEMO_BOOKINGS, seed_demo
from central.store import Store
from contracts.bookingcode import TokenError, check_rules, verify_token
from contracts.demo import demo_public_keys


def test_demo_seed_today(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "DEMO": True})
    store: Store = app.extensions["central.store"]
    try:
        bookings = store.bookings_for_day("demo-station", date.today())
        assert len(bookings) == DEMO_BOOKINGS
        assert {b["service"] for b in bookings} == {"V", "A", "B"}
        assert any(b["status"] == "cancelled" for b in bookings)
        assert any(b["priority"] for b in bookings)
        assert all(b["vaccine"] for b in bookings if b["service"] == "V")
        assert min(b["slot"]["start"] for b in bookings) >= "08:00"
        assert max(b["slot"]["end"] for b in bookings) <= "17:00"
        now = datetime.now().astimezone()
        cancelled = {b["id"] for b in bookings if b["status"] == "cancelled"}
        for booking in bookings:
            claims = verify_token(booking["token"], demo_public_keys())
            if booking["id"] in cancelled:
                with pytest.raises(TokenError, match="booking_cancelled"):
                    check_rules(claims, station_id="demo-station", today=date.today(),
                                now=now, cancelled=cancelled)
        # Seeding again the same day adds nothing.
        assert seed_demo(store, int(time.time())) == 0
    finally:
        store.close()


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["token", "--help"],
                                  ["token", "issue", "--help"], ["token", "revoke", "--help"]])
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert "usage: clinicq central" in capsys.readouterr().out


def test_every_option_has_help_text() -> None:
    parser = build_parser()
    subparsers = [a for a in parser._actions if a.dest == "command"][0]
    todo = list(subparsers.choices.items())  # type: ignore[attr-defined]
    while todo:
        name, sub = todo.pop()
        assert sub.description, name
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings}"
            todo += [(f"{name} {k}", v) for k, v in (getattr(action, "choices", None) or {}
                                                     ).items() if hasattr(v, "_actions")]


def test_serve_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.demo, args.database_url, args.workers, args.dev) == (
        "127.0.0.1", 5100, False, None, 2, False)
