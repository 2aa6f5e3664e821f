"""SQLite store (layer 3, adapter): the only code that talks SQL."""

from .sqlite import Store, StoreError, TraceCodeUsed

__all__ = ["Store", "StoreError", "TraceCodeUsed"]
