"""SQLite store (layer 3, adapter): the only code that talks SQL."""

from .errors import StorageFull, StoreError, TraceCodeUsed
from .sqlite import Store

__all__ = ["Store", "StorageFull", "StoreError", "TraceCodeUsed"]
