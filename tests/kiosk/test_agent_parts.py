"""Kiosk agent pieces without a station: foreign codes, scanner loss, the feed port, the CLI."""

from __future__ import annotations

import logging
import queue
import socket

import pytest
import requests

from hardware.printer import FakePrinter
from hardware.scanner.fake import FakeScanner
from kiosk import agent as agent_module
from kiosk.agent import KioskAgent
from kiosk.client import StationClient
from kiosk.codes import foreign_kind, masked
from kiosk.feed import FeedServer


@pytest.mark.parametrize("text, kind", [
    ("https://example.com/a?b=c", "url"),
    ("HTTP://EXAMPLE.COM", "url"),
    ("www.example.com", "url"),
    ("WIFI:S:clinic;T:WPA;P:secret;;", "qr payload"),
    ("BEGIN:VCARD\nFN:Zhang", "qr payload"),
    ("6901234567892", "product barcode"),       # EAN-13
    ("12345670", "product barcode"),            # EAN-8
    ("81234567890123456789", "product barcode"),  # 20-digit vaccine trace code
    ("DEMO-V001", None),
    ("BK1:6BFOXN*TS0BI$ZDYSHC", None),
    ("1234567", None),  # too short for a product code: the station decides
    ("  DEMO-A014 ", None),
])
def test_plainly_foreign_codes(text: str, kind: str | None) -> None:
    assert foreign_kind(text) == kind


def test_logs_show_codes_masked() -> None:
    assert masked("DEMO-V001") == "DEMO-V001"
    assert masked("BK1:" + "X" * 176) == "BK1:XXXX…(180 chars)"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_lost_scanner_is_reported_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    scanner = FakeScanner(dedupe_seconds=0)
    client = StationClient(f"http://127.0.0.1:{closed_port()}", "t", timeout=(0.5, 0.5))
    agent = KioskAgent(client, scanner, FakePrinter())
    caplog.set_level(logging.INFO, logger="kiosk.agent")
    agent.step(0.01)
    assert agent.health().scanner["state"] == "ok"
    scanner.unplug()
    agent.step(0.01)
    agent.step(0.01)
    assert agent.health().scanner["state"] == "lost"
    assert "fake scanner unplugged" in agent.health().scanner["last_error"]
    assert any("scanner fake lost" in r.message for r in caplog.records)
    scanner.replug()
    scanner.feed("https://example.com")
    agent.step(0.05)
    agent.step(0.05)
    assert agent.health().scanner["state"] == "ok"
    assert any("scanner fake is back" in r.message for r in caplog.records)
    # a URL is refused here, with the station unreachable, and never held for a retry
    assert [o.kind for o in agent.outcomes] == ["not_a_booking"]
    assert agent.health().held_scans == 0
    client.close()


def test_the_feed_port_queues_codes() -> None:
    codes: queue.Queue[str] = queue.Queue()
    feed = FeedServer(codes)
    try:
        assert requests.post(f"{feed.url}/scan", data="DEMO-V001").status_code == 202
        curl_like = {"Content-Type": "application/x-www-form-urlencoded"}  # what curl -d sends
        assert requests.post(f"{feed.url}/scan", data="BK1:A+B%C", headers=curl_like
                             ).status_code == 202
        r = requests.post(f"{feed.url}/scan", data={"code": "DEMO-A014"})
        assert r.status_code == 200 and "DEMO-A014" in r.text
        assert requests.post(f"{feed.url}/scan", data="  ").status_code == 400
        assert requests.post(f"{feed.url}/scan", data="x" * 5000).status_code == 413
        assert requests.get(feed.url).status_code == 200
        assert [codes.get_nowait() for _ in range(3)] == ["DEMO-V001", "BK1:A+B%C", "DEMO-A014"]
        assert codes.empty()
    finally:
        feed.close()


def test_every_option_has_help() -> None:
    parser = agent_module.build_parser()
    assert parser.description
    for action in parser._actions:
        assert action.help, action.dest


def test_help_and_bad_specs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        agent_module.main(["--help"])
    assert exit_.value.code == 0 and "--scanner" in capsys.readouterr().out
    base = ["--server", "http://127.0.0.1:9", "--token", "t"]
    assert agent_module.main(base + ["--scanner", "floppy:0", "--printer", "dummy"]) == 2
    assert "unknown scanner spec" in capsys.readouterr().err
    assert agent_module.main(base + ["--scanner", "fake", "--printer", "teletype:1"]) == 2
    assert "unknown printer spec" in capsys.readouterr().err
