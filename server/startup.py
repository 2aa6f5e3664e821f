"""Serving (layer 4): the checks before a station server opens its database — one server per
database (a lock held for the process's life), a sound file, not from a newer version — and
the copy taken before migrations run. Each refusal is one line for the operator."""

from __future__ import annotations

import logging
from pathlib import Path

from . import backup
from .config import Settings
from .store import files

log = logging.getLogger(__name__)

class Refused(Exception):
    """The server must not start; the message says why and what to do."""


def preflight(settings: Settings) -> files.Lock | None:
    """Take the database's lock (kept for the process's life: hold on to the result) and
    check the file; raises Refused. Copies the database first when migrations are pending."""
    if settings.database == ":memory:":
        return None
    path = Path(settings.database)
    try:
        backup.engine(settings.backup)
        backup.claim(settings)
    except backup.BackupError as err:
        raise Refused(str(err)) from None
    try:
        lock = files.Lock(path)
    except files.DatabaseLocked as err:
        raise Refused(f"{err}: stop that one first, or give this one another --database") \
            from None
    try:
        files.check(path)
        status = files.migration_status(path)
        if status.unknown:
            raise files.DatabaseTooNew(str(path), status.unknown, status.latest)
        copy = backup.before_migrations(settings)
    except files.DatabaseCorrupt as err:
        lock.release()
        raise Refused(f"{err}. Restore it from a backup: `clinicq backup restore` "
                      "(`clinicq backup list` shows what there is)") from None
    except files.DatabaseTooNew as err:
        lock.release()
        raise Refused(f"{err}. Run the newer clinicq, or restore the copy taken before the "
                      "upgrade: `clinicq backup list`, `clinicq backup restore --at TIME`") \
            from None
    except Exception as err:  # a copy that failed must not let migrations run without one
        lock.release()
        raise Refused(f"cannot check or copy {path} before starting: {err}") from None
    if copy is not None:
        log.info("migrations pending: copied %s to %s first", path, copy)
    return lock
