"""The database as a file (server/store/files.py): one server's lock, the checks before
start, and copies through the backup API (a full disk: tests/test_disk_full.py)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from server.store import Store, files
from server.store.migrations import migrations


def a_database(path: Path, rows: int = 3) -> Path:
    store = Store(path)
    for i in range(rows):
        store.set_meta(f"k{i}", "v")
    store.close()
    return path


def test_a_second_lock_on_one_database_names_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    first = files.Lock(db)
    try:
        with pytest.raises(files.DatabaseLocked) as caught:
            files.Lock(db)
        assert caught.value.pid == os.getpid()
        assert files.holder(db) == os.getpid()
    finally:
        first.release()
    assert files.holder(db) is None
    files.Lock(db).release()  # free again


def test_a_lock_held_by_another_process_is_seen_and_dies_with_it(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    root = str(Path(__file__).resolve().parent.parent)
    code = (f"import sys, time; sys.path.insert(0, {root!r}); from server.store import files; "
            f"held = files.Lock({str(db)!r}); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"held\n"
        assert files.holder(db) == proc.pid
        with pytest.raises(files.DatabaseLocked, match=f"pid {proc.pid}"):
            files.Lock(db)
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert files.holder(db) is None  # the kernel dropped it: no stale lock after a crash


def test_check_passes_a_sound_database_and_an_absent_one(tmp_path: Path) -> None:
    files.check(tmp_path / "nothing.db")
    files.check(a_database(tmp_path / "station.db"))


@pytest.mark.parametrize("damage", ["header", "pages"])
def test_check_refuses_a_corrupt_file_naming_it(tmp_path: Path, damage: str) -> None:
    db = a_database(tmp_path / "station.db", rows=200)
    data = bytearray(db.read_bytes())
    if damage == "header":
        data[:16] = b"not a database!!"
    else:  # every page after the first two scrambled: the schema's tables point at garbage
        for i in range(4096 * 2, len(data)):
            data[i] = (data[i] * 7 + 13) % 256
    db.write_bytes(bytes(data))
    with pytest.raises(files.DatabaseCorrupt) as caught:
        files.check(db)
    assert str(db) in str(caught.value)


def test_a_database_from_a_newer_version_is_refused_by_the_store(tmp_path: Path) -> None:
    db = a_database(tmp_path / "station.db")
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('clinicq', 'm099_from_the_future', '2027-01-01')")
    conn.commit()
    conn.close()
    status = files.migration_status(db)
    assert status.unknown == ["m099_from_the_future"] and status.pending == []
    with pytest.raises(files.DatabaseTooNew) as caught:
        Store(db)
    message = str(caught.value)
    assert str(db) in message and "m099_from_the_future" in message
    assert migrations._migrations[-1].name in message


def test_migration_status_lists_what_would_run(tmp_path: Path) -> None:
    from sqlite_utils import Database

    db = tmp_path / "old.db"
    last = migrations._migrations[-1].name
    migrations.apply(Database(db), stop_before=last)
    status = files.migration_status(db)
    assert status.pending == [last] and status.unknown == []
    Store(db).close()
    assert files.migration_status(db).pending == []


def test_copy_is_consistent_while_the_source_is_open(tmp_path: Path) -> None:
    store = Store(tmp_path / "station.db")
    store.set_meta("a", "1")
    out = files.copy(tmp_path / "station.db", tmp_path / "copies" / "one.db")
    store.set_meta("b", "2")  # after the copy: not in it
    store.close()
    assert files.integrity(out) == "ok"
    conn = sqlite3.connect(out)
    keys = {k for (k,) in conn.execute("SELECT key FROM meta")}
    conn.close()
    assert "a" in keys and "b" not in keys


def test_install_moves_the_old_file_and_its_wal_aside(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    for name in ("station.db", "station.db-wal", "station.db-shm"):
        (tmp_path / name).write_bytes(b"old")
    new = tmp_path / "new.db"
    new.write_bytes(b"new")
    aside = files.install(new, db)
    assert db.read_bytes() == b"new" and not Path(f"{db}-wal").exists()
    assert aside is not None and aside.read_bytes() == b"old"
    assert Path(f"{aside}-wal").read_bytes() == b"old"
