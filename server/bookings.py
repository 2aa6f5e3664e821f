"""Booking directory (layer 2): the one place check-in turns scanned text into a booking."""

from __future__ import annotations

from datetime import date, datetime, time

from .config import Settings
from .engine.commands import BookingInfo
from .engine.errors import DomainError
from .store import Store

MAX_CODE_BYTES = 1024  # anything longer is refused unread


class BookingDirectory:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def lookup(self, scanned: str, *, today: date) -> BookingInfo:
        """The booking a scanned or typed code stands for, or a DomainError saying why not."""
        if len(scanned.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
            raise DomainError("code_too_long")
        code = scanned.strip()
        if not code:
            raise DomainError("code_empty")
        row = self.store.booking_by_code(code)
        if row is None:
            raise DomainError("booking_unknown")
        return self._info(row)

    def _info(self, row: dict) -> BookingInfo:
        if row["station"] and row["station"] != self.settings.station_id:
            raise DomainError("booking_wrong_station")
        if row["status"] == "cancelled":
            raise DomainError("booking_cancelled")
        if row["service"] not in self.settings.services:
            raise DomainError("service_unknown", service=row["service"])
        day = date.fromisoformat(row["day"])
        return BookingInfo(
            id=row["id"], service=row["service"], day=day,
            slot_start=self._at(day, row["slot_start"]), slot_end=self._at(day, row["slot_end"]),
            priority=bool(row["priority"]), name_masked=row["name_masked"],
        )

    def _at(self, day: date, hhmm: str | None) -> datetime | None:
        if not hhmm:
            return None
        return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=self.settings.timezone)
