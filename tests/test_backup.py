"""Backups (server/backup.py, server/backup_cli.py): copies through the backup API, their
thinning, choosing the restore point, refusing a held database; the start-up checks
(server/startup.py) and `clinicq migrate`, through the real command line."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database
from support import TEST_CONFIG, station_settings

from server import backup, startup
from server.config import BackupConfig, Settings
from server.store import Store, files
from server.store.migrations import migrations

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def settings_for(tmp_path: Path, **backup_keys: object) -> Settings:
    cfg = BackupConfig(target=str(tmp_path / "backup"), engine="sqlite", **backup_keys)
    return station_settings(database=str(tmp_path / "station.db"), backup=cfg)


def write_events(db: Path, n: int, start: int = 1) -> None:
    """Rows in the ledger, enough to tell one copy from another by its last seq."""
    store = Store(db)
    with store._write() as d:
        for seq in range(start, start + n):
            d.execute("INSERT INTO events (id, seq, type, ticket_id, at, ticket) VALUES "
                      "(?, ?, 'ticket.issued', 't', '2026-12-03T09:00', '{}')",
                      [f"e{seq}", seq])
    store.close()


def clinicq(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_restore_picks_the_newest_copy_at_or_before_the_time(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    db = Path(settings.database)
    for i in range(3):  # copies at 01:00, 01:10, 01:20 holding 1, 2, 3 events
        write_events(db, 1, start=i + 1)
        backup.snapshot_now(settings, now=T0 + timedelta(minutes=10 * i))
    assert [p.at for p in backup.copies(settings)] == [T0 + timedelta(minutes=m)
                                                       for m in (0, 10, 20)]
    out = tmp_path / "restored.db"
    done = backup.restore(settings, T0 + timedelta(minutes=15), out)
    assert done.events == 2 and files.integrity(out) == "ok"
    done = backup.restore(settings, None, out)  # the newest; the file it replaces goes aside
    assert done.events == 3 and done.aside is not None and backup.max_seq(done.aside) == 2
    with pytest.raises(backup.BackupError, match="no backup at or before"):
        backup.restore(settings, T0 - timedelta(minutes=1), out)


def test_restore_refuses_the_database_a_server_holds(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    write_events(Path(settings.database), 2)
    backup.snapshot_now(settings)
    lock = files.Lock(settings.database)
    try:
        with pytest.raises(backup.BackupError, match="held by a running clinicq server"):
            backup.restore(settings)
        backup.restore(settings, to=tmp_path / "elsewhere.db")  # another file is fine
    finally:
        lock.release()
    assert backup.restore(settings).events == 2


def test_prune_keeps_the_last_hour_then_one_an_hour_within_the_retention(
        tmp_path: Path) -> None:
    settings = settings_for(tmp_path, retention_hours=5)
    write_events(Path(settings.database), 1)
    now = T0 + timedelta(hours=10)
    ages = [timedelta(minutes=m) for m in (1, 20, 50, 70, 80, 130, 170, 400, 600)]
    for age in ages:
        backup.snapshot_now(settings, now=now - age)
    backup.snapshot_now(settings, tag="before-m099_x", now=now - timedelta(minutes=75))
    backup.prune(settings, now)
    kept = {(now - p.at, p.tag) for p in backup.copies(settings)}
    assert kept == {(timedelta(minutes=m), "") for m in (1, 20, 50, 70, 130)} | \
        {(timedelta(minutes=75), "before-m099_x")}


def test_the_timer_copies_only_when_the_ledger_moved(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    db = Path(settings.database)
    write_events(db, 3)
    store = Store(db)
    woken = []
    continuous = backup.Continuous(settings, "sqlite", store.last_seq, lambda: woken.append(1))
    continuous.tick()
    assert continuous.backed_up_seq() == 3 and len(backup.copies(settings)) == 1 and woken
    continuous.tick()
    assert len(backup.copies(settings)) == 1  # nothing new: no copy
    store.close()


def test_preflight_copies_before_pending_migrations(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    last = migrations._migrations[-1].name
    migrations.apply(Database(settings.database), stop_before=last)
    lock = startup.preflight(settings)
    assert lock is not None
    lock.release()
    (copy,) = backup.copies(settings)
    assert copy.tag == f"before-{last}"
    assert files.migration_status(copy.path).pending == [last]  # the pre-upgrade database


def test_an_s3_target_needs_litestream(tmp_path: Path) -> None:
    from server import config

    with pytest.raises(config.ConfigError, match="needs engine"):
        config.load(_config(tmp_path, target="s3://bucket/station", engine="sqlite"))


def _config(tmp_path: Path, **keys: str) -> Path:
    """The tests' configuration with [backup] keys replaced."""
    head, _, rest = TEST_CONFIG.read_text(encoding="utf-8").partition("\n[backup]\n")
    section, _, tail = rest.partition("\n[")
    lines = [line for line in section.splitlines()
             if line.split(" = ")[0] not in keys]
    lines += [f'{k} = "{v}"' for k, v in keys.items()]
    path = tmp_path / "station.toml"
    path.write_text(head + "\n[backup]\n" + "\n".join(lines) + "\n\n[" + tail, encoding="utf-8")
    return path


# -- the command line -------------------------------------------------------------------

@pytest.mark.slow
def test_backup_now_list_and_restore_from_the_command_line(tmp_path: Path) -> None:
    conf = _config(tmp_path, target=str(tmp_path / "backup"), engine="sqlite")
    db = tmp_path / "station.db"
    write_events(db, 4)
    args = ("--config", str(conf), "--database", str(db))
    now = clinicq("backup", *args, "now")
    assert now.returncode == 0, now.stderr
    listed = clinicq("backup", *args, "list")
    assert listed.returncode == 0 and now.stdout.strip() in listed.stdout
    db.unlink()
    restored = clinicq("backup", *args, "restore")
    assert restored.returncode == 0, restored.stderr
    assert "seq 4" in restored.stdout and backup.max_seq(db) == 4
    bad = clinicq("backup", *args, "restore", "--at", "yesterday")
    assert bad.returncode == 2 and "--at" in bad.stderr


def refused(run: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start prints; no traceback."""
    assert run.returncode == 2, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("clinicq serve:")]
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    return lines[0]


@pytest.mark.slow
def test_a_corrupt_database_is_refused_at_start_pointing_to_restore(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\x07" * 8192)
    line = refused(clinicq("serve", "--config", str(TEST_CONFIG), "--database", str(db),
                           "--port", "1"))
    assert str(db) in line and "clinicq backup restore" in line


@pytest.mark.slow
def test_a_database_from_a_newer_version_is_refused_at_start(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('clinicq', 'm099_from_the_future', '2027-01-01')")
    conn.commit()
    conn.close()
    line = refused(clinicq("serve", "--config", str(TEST_CONFIG), "--database", str(db),
                           "--port", "1"))
    assert str(db) in line and "m099_from_the_future" in line
    assert migrations._migrations[-1].name in line
    check = clinicq("migrate", "--config", str(TEST_CONFIG), "--database", str(db), "--check")
    assert check.returncode == 2 and "newer" in check.stderr


@pytest.mark.slow
def test_migrate_check_lists_what_would_run_and_migrate_runs_it(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    last = migrations._migrations[-1].name
    migrations.apply(Database(db), stop_before=last)
    args = ("--config", str(_config(tmp_path, target=str(tmp_path / "backup"))),
            "--database", str(db))
    check = clinicq("migrate", *args, "--check")
    assert check.returncode == 1 and check.stdout.split() == [last]
    run = clinicq("migrate", *args)
    assert run.returncode == 0 and last in run.stdout and "copy first" in run.stdout
    again = clinicq("migrate", *args, "--check")
    assert again.returncode == 0 and again.stdout == ""
    # the rollback: the copy taken before the upgrade, put back
    (copy,) = [p for p in backup.copies(settings_for(tmp_path)) if p.tag]
    assert copy.tag == f"before-{last}"
    back = clinicq("backup", *args, "restore", "--copy", str(copy.path))
    assert back.returncode == 0, back.stderr
    assert files.migration_status(db).pending == [last]


@pytest.mark.slow
def test_a_second_server_on_one_database_is_refused_naming_the_first(tmp_path: Path) -> None:
    from support import StationProcess

    db = tmp_path / "station.db"
    first = StationProcess(db)
    try:
        line = refused(clinicq("serve", "--config", str(TEST_CONFIG), "--database", str(db),
                               "--port", "1"))
        assert str(db) in line and f"pid {first.proc.pid}" in line
    finally:
        first.stop()


def test_settings_carry_the_backup_table(tmp_path: Path) -> None:
    from server import config

    loaded = config.load(_config(tmp_path, target="backups", engine="sqlite"))
    assert loaded.backup.target == str(tmp_path / "backups") and not loaded.backup.remote
    assert dataclasses.replace(loaded.backup, target="s3://b/p").remote


def test_a_target_belongs_to_one_database(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    backup.claim(settings)
    backup.claim(settings)  # its own again: fine
    other = dataclasses.replace(settings, database=str(tmp_path / "other.db"))
    with pytest.raises(backup.BackupError, match="holds the backups of"):
        backup.claim(other)
    with pytest.raises(startup.Refused, match="own \\[backup\\] target"):
        startup.preflight(other)
