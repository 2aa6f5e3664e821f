"""SQLite store (layer 3): the store's errors; the layers above see these, never sqlite3's.

    StoreError            the database refused a write; nothing was written
    ├── TraceCodeUsed     a dose's trace code is recorded already (the unique index)
    ├── StorageFull       the disk is full (SQLITE_FULL); the write was undone
    └── (server/store/files.py: DatabaseLocked, DatabaseCorrupt, DatabaseTooNew)
"""

from __future__ import annotations


class StoreError(Exception):
    """The database refused a write (a unique key, a full disk); nothing was written."""


class TraceCodeUsed(StoreError):
    """A dose's trace code was recorded before at this station (the unique index said so)."""


class StorageFull(StoreError):
    """The database's disk is full: the transaction was rolled back; retry once there is
    room again."""
