"""The platform under gunicorn (central/serving.py): 4 worker processes start at once on an
empty PostgreSQL database (one migrates and seeds), then 50 simulated stations push at once,
each event stored exactly once; and the `clinicq central token` command."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from central_support import PlatformProcess, StationClient, station_events

from central import schema
from central.cli import main
from central.demo import DEMO_BOOKINGS, DEMO_NEIGHBOURS, DEMO_SERVICES
from central.store import Store
from contracts import syncwire

STATIONS, EVENTS, BATCH = 50, 200, 50


@pytest.mark.slow
@pytest.mark.postgres
def test_fifty_stations_push_to_four_workers(postgres_database: str, tmp_path: Path) -> None:
    platform = PlatformProcess(postgres_database, 4, log=tmp_path / "platform.log")
    store = Store(postgres_database)
    try:
        # four workers started at once on an empty database: seeded once
        today = store.local_today(int(time.time()))
        assert len(store.bookings_for_day("demo-station", today)) == DEMO_BOOKINGS
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(
                schema.stations)).scalar_one() == 1 + len(DEMO_NEIGHBOURS)
        now = int(time.time())
        for i in range(STATIONS):
            store.add_station(f"sim-{i}", f"模拟站 {i}", f"sim-{i}-token", DEMO_SERVICES, now)
        answers: dict[str, list[list[str]]] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(STATIONS)

        def station(i: int) -> None:
            client = StationClient(platform.url, f"sim-{i}", f"sim-{i}-token")
            events, seen = station_events(f"sim-{i}", EVENTS), []
            try:
                start.wait(timeout=30)
                for k in range(0, EVENTS, BATCH):
                    seen.append(client.push(events[k:k + BATCH]))
                    seen.append(client.push(events[k:k + BATCH]))  # the answer "was lost"
                answers[f"sim-{i}"] = seen
            except BaseException as err:
                errors.append(err)
            finally:
                client.close()

        threads = [threading.Thread(target=station, args=(i,)) for i in range(STATIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == [] and len(answers) == STATIONS
        for seen in answers.values():
            assert all(set(first) == {"stored"} for first in seen[0::2])
            assert all(set(retry) == {"duplicate"} for retry in seen[1::2])
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(schema.events.c.station_id, sa.func.count()).where(
                schema.events.c.station_id.like("sim-%")).group_by(
                schema.events.c.station_id)).all()
        assert dict(rows) == {f"sim-{i}": EVENTS for i in range(STATIONS)}
        expected = syncwire.reconciliation(
            [(e["seq"], e["id"], syncwire.event_sha256(e)) for e in station_events("sim-7",
                                                                                   EVENTS)],
            "2026-12-02")
        answer = requests.get(f"{platform.url}/api/v1/stations/sim-7/reconciliation",
                              params={"day": "2026-12-02"}, timeout=10,
                              headers={"Authorization": "Bearer sim-7-token"}).json()
        assert answer["digest"] == expected["digest"] and answer["events"] == EVENTS
    finally:
        store.close()
        assert platform.stop() == 0


def test_token_issue_and_revoke_commands(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    store = Store(url)
    store.migrate(0)
    store.add_station("east", "东区站", "east-token", {"A": ("门诊", "clinic")}, 0)
    assert main(["token", "--database-url", url, "issue", "east"]) == 0
    out = capsys.readouterr().out
    token = out.split("token:")[-1].split()[0]
    token_id = out.split("token_id:")[1].split()[0]
    assert store.station_for_token(token) == "east"
    assert main(["token", "--database-url", url, "revoke", "east", token_id]) == 0
    assert store.station_for_token(token) is None
    assert store.station_for_token("east-token") == "east"
    assert main(["token", "--database-url", url, "issue", "nowhere"]) == 1
    assert "nowhere" in capsys.readouterr().err
    assert main(["token", "--database-url", url, "revoke", "east", "tk0"]) == 1
    store.close()
