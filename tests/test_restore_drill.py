"""The restore drill (issue 15): a real station process with its backup on and a real
platform process; check-ins and calls over HTTP; the station killed and its database
destroyed; `clinicq backup restore`; then the checks that matter on the day — the file is
sound, it lacks at most the configured window of acknowledged tickets, the server starts on
it, and the outbox resumes from it without a duplicate at the platform. Both engines:
Litestream and SQLite's backup API."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from support import KIOSK, TEST_CONFIG, TZ, CentralProcess, StationProcess, free_port, wait_until

from central.demo import DEMO_ADMIN_TOKEN
from server import litestream

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
WINDOW = {"litestream": 0.5, "sqlite": 1.0}  # window_seconds, snapshot_seconds
SLACK = 1.5  # seconds beyond the window: a monitor tick, the copy itself, a loaded machine


def drill_config(tmp_path: Path, central_url: str, engine: str) -> Path:
    text = TEST_CONFIG.read_text(encoding="utf-8")
    replace = {
        "url": f'"{central_url}"', "backoff_max_seconds": "1", "timeout_seconds": "1.0",
        "target": f'"{tmp_path / "backup"}"', "window_seconds": str(WINDOW["litestream"]),
        "snapshot_seconds": str(WINDOW["sqlite"]),
    }
    out = []
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line
        key = line.split(" = ")[0]
        if key in replace:
            line = f"{key} = {replace[key]}"
        elif section == "[backup]" and key == "engine":
            line = f'engine = "{engine}"'
        out.append(line)
    path = tmp_path / "station.toml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def today() -> str:
    return datetime.now(TZ).date().isoformat()


class Desk:
    """The kiosk and a nurse at A1, over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.kiosk = requests.Session()
        self.kiosk.headers.update(KIOSK)
        self.nurse = requests.Session()
        r = self.nurse.post(f"{url}/api/v1/login", timeout=5,
                            json={"username": "demo-nurse", "password": "demo-nurse"})
        assert r.status_code == 200, r.text
        self.nurse.headers["X-CSRF-Token"] = r.json()["csrf_token"]

    def walk_in(self) -> str:
        r = self.kiosk.post(f"{self.url}/api/v1/tickets", json={"service": "A"}, timeout=5)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def call_and_complete(self) -> None:
        r = self.nurse.post(f"{self.url}/api/v1/counters/A1/call-next", timeout=5)
        assert r.status_code == 200, r.text
        ticket = r.json()["id"]
        for action in ("start", "complete"):
            r = self.nurse.post(f"{self.url}/api/v1/tickets/{ticket}/{action}", timeout=5)
            assert r.status_code == 200, r.text

    def finish_held(self) -> None:
        """What the nurse does first after a restore: the ticket A1 held when the backup was
        taken (called, or being served) is dealt with."""
        r = self.nurse.get(f"{self.url}/api/v1/state", timeout=5)
        assert r.status_code == 200, r.text
        held = next(c["ticket"] for c in r.json()["counters"] if c["id"] == "A1")
        if held is None:
            return
        actions = ("start", "complete") if held["status"] == "called" else ("complete",)
        for action in actions:
            r = self.nurse.post(f"{self.url}/api/v1/tickets/{held['id']}/{action}", timeout=5)
            assert r.status_code == 200, r.text

    def status(self) -> dict[str, Any]:
        r = self.nurse.get(f"{self.url}/api/v1/sync/status", timeout=5)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def day(self) -> dict[str, Any]:
        r = self.nurse.get(f"{self.url}/api/v1/sync/reconciliation", params={"day": today()},
                           timeout=5)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.kiosk.close()
        self.nurse.close()


def platform_day(central: CentralProcess) -> dict[str, Any]:
    r = requests.get(f"{central.url}/api/v1/stations/demo-station/reconciliation",
                     params={"day": today(), "items": "1"}, headers=ADMIN, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def kill_all(station: StationProcess) -> None:
    """SIGKILL the station's every process, Litestream's too: the disk died with it."""
    pids = station.pids()
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    station.stop()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("engine", ["litestream", "sqlite"])
def test_restore_drill(tmp_path: Path, engine: str) -> None:
    if engine == "litestream" and litestream.binary() is None:
        pytest.skip("the litestream binary is not installed")
    central = CentralProcess(f"sqlite:///{tmp_path / 'central.db'}",
                             log=tmp_path / "central.log")
    db = tmp_path / "station.db"
    conf = drill_config(tmp_path, central.url, engine)
    port = free_port()
    station = StationProcess(db, port, config_file=conf, log=tmp_path / "station.log")
    desk = Desk(station.url)
    try:
        acked: list[tuple[str, float]] = []  # (ticket id, when the station answered 201)
        until = time.monotonic() + 3.0
        while time.monotonic() < until:
            for _ in range(3):
                acked.append((desk.walk_in(), time.monotonic()))
            desk.call_and_complete()
        # the platform receives what the backup holds, and no more
        wait_until(lambda: platform_day(central)["events"] > 0, timeout=20,
                   what=lambda: (desk.status(), platform_day(central)["events"]))
        killed_at = time.monotonic()
        desk.close()
        kill_all(station)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)

        run = subprocess.run([sys.executable, "-m", "server.cli", "backup", "--config",
                              str(conf), "--database", str(db), "restore"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stdout + run.stderr
        assert rows(db, "PRAGMA integrity_check") == [("ok",)]
        restored = {tid for (tid,) in rows(db, "SELECT id FROM tickets")}
        window = WINDOW[engine] + SLACK
        lost = [(tid, killed_at - at) for tid, at in acked if tid not in restored]
        assert all(age <= window for _tid, age in lost), lost
        assert len(restored) >= len(acked) // 2, (len(restored), len(acked))
        # the platform holds nothing the restored station lacks: it will mint no seq again
        ours = {eid for (eid,) in rows(db, "SELECT id FROM events")}
        theirs = platform_day(central)["items"]
        assert {i["id"] for i in theirs} <= ours

        station = StationProcess(db, port, config_file=conf, log=tmp_path / "station.log")
        desk = Desk(station.url)
        desk.finish_held()  # the backup may have been taken between a call and its end
        for _ in range(5):
            desk.walk_in()
        desk.call_and_complete()

        def in_step() -> bool:
            status, platform = desk.status(), platform_day(central)
            return not status["pending"] and desk.day()["digest"] == platform["digest"]

        wait_until(in_step, timeout=30, what=lambda: (desk.status(), platform_day(central)))
        items = platform_day(central)["items"]
        seqs = [i["seq"] for i in items]
        assert len(seqs) == len(set(seqs)) == desk.status()["last_seq"]  # no duplicate
        status = desk.status()
        assert status["conflicts"] == status["rejected"] == 0
        assert status["backed_up_seq"] == status["last_seq"]  # all of it is in the backup
    finally:
        desk.close()
        station.stop()
        central.stop()


def test_litestream_restores_the_newest_point_at_or_before_a_time(tmp_path: Path) -> None:
    from datetime import UTC, timedelta

    from server import backup, config

    if litestream.binary() is None:
        pytest.skip("the litestream binary is not installed")
    conf = drill_config(tmp_path, "", "litestream")
    db = tmp_path / "station.db"
    settings = config.load(conf, database=str(db))
    station = StationProcess(db, config_file=conf, log=tmp_path / "station.log")
    desk = Desk(station.url)

    def backed_up(tickets: list[str]) -> bool:
        out = tmp_path / "check.db"
        try:
            backup.restore(settings, to=out)
        except backup.BackupError:
            return False
        held = {tid for (tid,) in rows(out, "SELECT id FROM tickets")}
        return set(tickets) <= held

    try:
        first = [desk.walk_in() for _ in range(3)]
        wait_until(lambda: backed_up(first), timeout=20, what="the first tickets backed up")
        # a whole second after the first tickets reached the backup, and before the others
        at = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
        wait_until(lambda: datetime.now(UTC) >= at + timedelta(seconds=1), timeout=5)
        later = [desk.walk_in() for _ in range(3)]
        wait_until(lambda: backed_up(first + later), timeout=20, what="all backed up")
    finally:
        desk.close()
        station.stop()
    run = subprocess.run([sys.executable, "-m", "server.cli", "backup", "--config", str(conf),
                          "--database", str(db), "restore", "--at", at.isoformat(), "--to",
                          str(tmp_path / "then.db")], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    then = {tid for (tid,) in rows(tmp_path / "then.db", "SELECT id FROM tickets")}
    assert set(first) <= then and not set(later) & then
