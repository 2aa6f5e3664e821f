"""SQLite store (layer 3, adapter): the only code that talks SQL."""

from .sqlite import Store, StoreError

__all__ = ["Store", "StoreError"]
