"""Benchmark of the station's continuous backup (issue 15); prints JSON lines.

Backup lag: from a check-in's 201 to the moment a restore of the backup holds its ticket,
p50 and p99, for each engine: Litestream with the shipped window (window_seconds = 1), and
SQLite's backup API copying every 5 s (the shipped 60 s would make a slow benchmark; its lag
is about half the interval by construction). A restore is polled back to back, so each
figure is an upper bound by about one restore's time (`backup_restore_*_ms_p50`, measured
too). Each check-in comes at a random moment of the engine's cycle.
The station runs the production way (`clinicq serve --demo`, gunicorn) on the shipped
config.toml with its [backup] table pointed at a temporary directory.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import StationProcess, emit, emit_distribution  # noqa: E402

from server import backup, config, litestream  # noqa: E402

KIOSK = {"Authorization": "Bearer demo-kiosk-token"}


def backup_config(tmp: Path, engine: str, **keys: str) -> Path:
    """The shipped config.toml, its [backup] table set to `engine` into `tmp/<engine>-backup`."""
    lines, section = [], ""
    wanted = {"target": f'"{tmp / (engine + "-backup")}"', "engine": f'"{engine}"', **keys}
    for line in config.DEFAULT_CONFIG.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line
        key = line.split(" = ")[0]
        if section == "[backup]" and key in wanted:
            line = f"{key} = {wanted[key]}"
        lines.append(line)
    path = tmp / f"{engine}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def holds(settings: config.Settings, out: Path, ticket: str) -> tuple[bool, float]:
    """Whether a restore of the backup (latest, as `clinicq backup restore --to` does it, in
    this process) holds `ticket`; and the restore's time."""
    started = time.perf_counter()
    try:
        backup.restore(settings, to=out)
    except backup.BackupError:
        return False, (time.perf_counter() - started) * 1000
    took = (time.perf_counter() - started) * 1000
    conn = sqlite3.connect(out)
    try:
        found = conn.execute("SELECT 1 FROM tickets WHERE id = ?", [ticket]).fetchone()
    finally:
        conn.close()
    return found is not None, took


def lag(tmp: Path, engine: str, samples: int, **keys: str) -> tuple[list[float], list[float]]:
    conf = backup_config(tmp, engine, **keys)
    database = tmp / f"{engine}.db"
    settings = config.load(conf, database=str(database))
    interval = settings.backup.window_seconds if engine == "litestream" \
        else settings.backup.snapshot_seconds
    station = StationProcess(database, None, config_file=conf)
    kiosk = requests.Session()
    kiosk.headers.update(KIOSK)
    lags, restores = [], []
    try:
        for _ in range(samples):
            # a commit at a random moment of the engine's cycle, not just after a round
            time.sleep(random.uniform(0, interval))
            r = kiosk.post(f"{station.url}/api/v1/tickets", json={"service": "A"}, timeout=5)
            committed = time.perf_counter()
            assert r.status_code == 201, r.text
            ticket = r.json()["id"]
            while True:
                found, took = holds(settings, tmp / f"{engine}-check.db", ticket)
                restores.append(took)
                if found:
                    lags.append((time.perf_counter() - committed) * 1000)
                    break
                if time.perf_counter() - committed > 120:
                    raise RuntimeError(f"{engine}: ticket {ticket} not in the backup in 120 s")
    finally:
        kiosk.close()
        station.stop()
    return lags, restores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Backup lag figures.")
    parser.add_argument("--samples", type=int, default=15, help="check-ins timed per engine")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if litestream.binary() is not None:
            lags, restores = lag(Path(tmp), "litestream", args.samples)
            emit_distribution("backup_lag_litestream_window_1s", lags)
            emit("backup_restore_litestream_ms_p50", sorted(restores)[len(restores) // 2],
                 "ms", len(restores))
        lags, restores = lag(Path(tmp), "sqlite", max(args.samples // 3, 3),
                             snapshot_seconds="5")
        emit_distribution("backup_lag_sqlite_every_5s", lags)
        emit("backup_restore_sqlite_ms_p50", sorted(restores)[len(restores) // 2], "ms",
             len(restores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
