"""A kiosk agent with no token pairs itself: it prints a code, an admin approves it, and the
token it collects is kept in a file only its user can read; the agent then works with it."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import requests
from support import LiveServer, wait_until

from hardware.printer import FakePrinter
from kiosk.pairing import pair, read_token, save_token


def test_an_unpaired_agent_prints_a_code_and_collects_its_token(live_server: LiveServer,
                                                                 tmp_path: Path) -> None:
    base = live_server.url
    printer = FakePrinter()
    got: list[str] = []
    worker = threading.Thread(target=lambda: got.append(pair(base, printer=printer, every=0.05)),
                              daemon=True)
    worker.start()
    wait_until(lambda: printer.printed, 10, what="the pairing slip printed")
    slip = printer.printed[0]
    assert slip.label.startswith("pairing-")
    code = slip.label.removeprefix("pairing-")
    assert code.encode() in printer.output  # the code itself is on the paper
    admin = requests.Session()
    r = admin.post(f"{base}/api/v1/login", json={"username": "demo-admin",
                                                  "password": "demo-admin"})
    admin.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    admin.post(f"{base}/api/v1/devices/pair", json={"code": code, "name": "二号自助机",
                                                     "kind": "kiosk"}).raise_for_status()
    worker.join(10)
    assert got and len(got[0]) >= 32
    path = tmp_path / "var" / "kiosk.token"
    save_token(path, got[0])
    assert read_token(path) == got[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the kiosk's token: it issues tickets, and it is a kiosk's, not a nurse's
    bearer = {"Authorization": f"Bearer {got[0]}"}
    r = requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=bearer)
    assert r.status_code == 201, r.text
    assert requests.post(f"{base}/api/v1/counters/A1/call-next",
                         headers=bearer).status_code == 403


def test_no_token_file_means_not_paired(tmp_path: Path) -> None:
    assert read_token(tmp_path / "missing.token") is None
    (tmp_path / "empty.token").write_text("\n")
    assert read_token(tmp_path / "empty.token") is None
