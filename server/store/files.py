"""SQLite store (layer 3): the database as a file — the lock one server holds on it, the checks
made before a server opens it (readable, not corrupt, not from a newer version), and copies
made with SQLite's online backup API.

    StoreError
    ├── DatabaseLocked   another server holds the database (its pid)
    ├── DatabaseCorrupt  the file is not a sound SQLite database
    └── DatabaseTooNew   it records migrations this code does not know
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import StoreError
from .migrations import migrations

HEADER = b"SQLite format 3\x00"
MIGRATIONS_TABLE = "_sqlite_migrations"


class DatabaseLocked(StoreError):
    def __init__(self, path: str, pid: int | None) -> None:
        super().__init__(f"{path} is in use by another clinicq server (pid {pid or '?'})")
        self.path, self.pid = path, pid


class DatabaseCorrupt(StoreError):
    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path} is not a sound SQLite database ({detail})")
        self.path, self.detail = path, detail


class DatabaseTooNew(StoreError):
    def __init__(self, path: str, unknown: list[str], latest: str) -> None:
        super().__init__(
            f"{path} was written by a newer clinicq: it records migration(s) "
            f"{', '.join(unknown)}, and this version knows migrations up to {latest}")
        self.path, self.unknown, self.latest = path, unknown, latest


def lock_path(database: str | Path) -> Path:
    return Path(f"{database}.lock")


class Lock:
    """An exclusive flock on `<database>.lock`, held until `release()` or the process ends
    (the kernel drops it with the last descriptor: a crashed server leaves no stale lock).
    The file says the holder's pid; gunicorn's worker inherits the descriptor, so the lock
    is the serving process tree's."""

    def __init__(self, database: str | Path) -> None:
        self.path = lock_path(database)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = open(self.path, "a+", encoding="ascii")  # noqa: SIM115
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid_in(self.path)
            self._file.close()
            self._file = None
            raise DatabaseLocked(str(database), pid) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None


def holder(database: str | Path) -> int | None:
    """The pid of the server holding the database's lock, or None when nobody holds it."""
    path = lock_path(database)
    if not path.exists():
        return None
    with open(path, encoding="ascii") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid_in(path) or -1
    return None


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None


def check(path: str | Path) -> None:
    """Raise DatabaseCorrupt unless `path` is absent, empty, or a SQLite database whose
    `quick_check` is ok (what a server would meet on its first query, and worse, found now)."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as file:
        if file.read(len(HEADER)) != HEADER:
            raise DatabaseCorrupt(str(path), "no SQLite header")
    verdict = integrity(path, quick=True)
    if verdict != "ok":
        raise DatabaseCorrupt(str(path), verdict)


def integrity(path: str | Path, *, quick: bool = False) -> str:
    """`PRAGMA integrity_check` (or `quick_check`): "ok", or the first problem it names."""
    try:
        conn = sqlite3.connect(path)
        try:
            pragma = "quick_check" if quick else "integrity_check"
            rows = conn.execute(f"PRAGMA {pragma}").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        return str(err)
    return "ok" if rows == [("ok",)] else str(rows[0][0])


@dataclass(frozen=True)
class MigrationStatus:
    applied: list[str]
    pending: list[str]  # known to this code, not in the database: what would run
    unknown: list[str]  # in the database, not known to this code: a newer version wrote it
    known: list[str]

    @property
    def latest(self) -> str:
        return self.known[-1] if self.known else "(none)"


def migration_status(path: str | Path) -> MigrationStatus:
    """What the database records against what this code knows; read only."""
    known = [m.name for m in migrations._migrations]
    applied: list[str] = []
    if Path(path).exists() and Path(path).stat().st_size:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                               [MIGRATIONS_TABLE]).fetchone()
            if has:
                applied = [r[0] for r in conn.execute(
                    f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? "
                    "ORDER BY rowid", [migrations.name])]
        finally:
            conn.close()
    return MigrationStatus(applied, [n for n in known if n not in applied],
                           [n for n in applied if n not in known], known)


def refuse_newer(conn: sqlite3.Connection, path: str) -> None:
    """Raise DatabaseTooNew when the open database records migrations this code lacks."""
    has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                       [MIGRATIONS_TABLE]).fetchone()
    if not has:
        return
    known = [m.name for m in migrations._migrations]
    names = set(known)
    unknown = [r[0] for r in conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
        [migrations.name]) if r[0] not in names]
    if unknown:
        raise DatabaseTooNew(path, unknown, known[-1])


def copy(source: str | Path, dest: str | Path) -> Path:
    """A consistent copy of `source` at `dest` through SQLite's online backup API (safe while
    a server writes it), written beside `dest` and moved into place once complete and checked.
    Raises StoreError if the copy fails its integrity check."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=10)
    try:
        out = sqlite3.connect(partial)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            out.close()
    finally:
        src.close()
    verdict = integrity(partial, quick=True)
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise StoreError(f"the copy of {source} failed its check: {verdict}")
    with open(partial, "rb") as file:
        os.fsync(file.fileno())
    os.replace(partial, dest)
    _fsync_dir(dest.parent)
    return dest


def install(restored: str | Path, database: str | Path) -> Path | None:
    """Put the file `restored` in place as `database`: the database's present file (if any)
    and its -wal and -shm are moved aside to `<database>.replaced-<n>` first, never deleted.
    Returns where the old file went."""
    database = Path(database)
    aside = None
    if database.exists():
        n = 1
        while Path(f"{database}.replaced-{n}").exists():
            n += 1
        aside = Path(f"{database}.replaced-{n}")
        os.replace(database, aside)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{database}{suffix}")
        if side.exists():
            if aside is not None:
                os.replace(side, Path(f"{aside}{suffix}"))
            else:
                side.unlink()
    os.replace(restored, database)
    _fsync_dir(database.parent)
    return aside


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
