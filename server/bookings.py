"""Booking directory (layer 2): the one place check-in turns scanned text into a booking.

A scanned `BK1:` code is verified offline (contracts/bookingcode.py) with the platform keys the
station has cached; a code with an unknown key id makes the key ring ask the platform once.
A genuine code checks in even when its booking has not arrived through the feed yet: the
signed claims are the booking. The local `bookings` table (feed, demo) says which are
cancelled, and lets staff check a resident in without a code, and typed demo codes
(`DEMO-V001`) still work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from contracts.bookingcode import BookingClaims, TokenError, check_rules, verify_token
from contracts.names import clean_name, shown_mask

from .config import Settings
from .engine.commands import BookingInfo
from .engine.errors import DomainError
from .store import Store
from .sync import KeyRing

# A code a person could type at the desk (`DEMO-V001`); anything else that is not a BK1
# code is not a booking code at all.
_TYPED_CODE = re.compile(r"[A-Za-z0-9-]{1,24}")
# What a scanner adds (a trailing tab, CR LF) and what a paste brings (line breaks inside a long
# code) is dropped before anything else looks at it. Not inner spaces: a BK1 code is Base45,
# whose alphabet has the space.
_BREAKS = re.compile(r"[\t\r\n\v\f\u2028\u2029]+")


def normalise(scanned: str) -> str:
    """The code as scanned, typed or pasted: no tabs or line breaks, no surrounding spaces."""
    return _BREAKS.sub("", scanned).strip(" ")


class BookingDirectory:
    def __init__(self, settings: Settings, store: Store, keyring: KeyRing | None = None, *,
                 acted_on: Callable[[str], bool] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.keyring = keyring or KeyRing(store)
        # whether the station has a ticket for a booking: once it has acted on one, a later
        # word from the feed (a cancellation, a stale "booked") changes nothing here
        self.acted_on = acted_on or (lambda _booking_id: False)

    def lookup(self, scanned: str, *, today: date, now: datetime | None = None) -> BookingInfo:
        """The booking a scanned or typed code stands for, or a DomainError saying why not.

        Order: size and prefix (before anything is decoded), decoding, key, signature, then
        the rules: this station, today, not expired, not cancelled.
        """
        now = now or datetime.combine(today, time(12), tzinfo=self.settings.timezone)
        if len(scanned) <= 4096:  # a huge paste keeps its size for decode_token to refuse
            scanned = normalise(scanned)
        try:
            claims = self._verify(scanned)
        except TokenError as err:
            if err.code == "token_wrong_prefix" and _TYPED_CODE.fullmatch(scanned):
                # typed on a touch keyboard: " demo-a002 " is DEMO-A002
                return self._typed(scanned.upper())
            raise DomainError(err.code, **err.params) from err
        try:
            check_rules(claims, station_id=self.settings.station_id, today=today, now=now,
                        cancelled=self._cancelled)
        except TokenError as err:
            if err.code == "booking_wrong_station":
                raise self._wrong_station(claims.station_id) from err
            raise DomainError(err.code, **err.params) from err
        return self._from_claims(claims)

    def by_id(self, booking_id: str) -> BookingInfo:
        """A booking of the local list, for staff-assisted check-in without a code."""
        row = self.store.booking(booking_id)
        if row is None:
            raise DomainError("booking_unknown")
        return self._info(row)

    def _verify(self, scanned: str) -> BookingClaims:
        try:
            return verify_token(scanned, self.keyring.keys())
        except TokenError as err:
            # A key id we have not seen may be a key the platform added since: ask it once
            # (rate-limited, short timeout), then refuse.
            if err.code != "token_unknown_key" or not self.keyring.refresh():
                raise
        return verify_token(scanned, self.keyring.keys())

    def _cancelled(self, booking_id: str) -> bool:
        return (self.store.booking_status(booking_id) == "cancelled"
                and not self.acted_on(booking_id))

    def _typed(self, code: str) -> BookingInfo:
        row = self.store.booking_by_code(code)
        if row is None:
            raise DomainError("booking_unknown")
        return self._info(row)

    def _from_claims(self, claims: BookingClaims) -> BookingInfo:
        if claims.service not in self.settings.services:
            raise DomainError("service_unknown", service=claims.service)
        midnight = datetime.combine(claims.day, time(0), tzinfo=self.settings.timezone)
        # the code carries no vaccine nor birth year: the booking list (feed, demo) says them
        row = self.store.booking(claims.booking_id)
        return BookingInfo(
            id=claims.booking_id, service=claims.service, day=claims.day,
            slot_start=midnight + timedelta(minutes=claims.slot_start),
            slot_end=midnight + timedelta(minutes=claims.slot_end),
            priority=claims.priority, name_masked=shown_mask(claims.masked_name),
            name=clean_name((row or {}).get("name")) or None,
            birth_year=_birth_year(row), **_vaccine(row),
        )

    def _info(self, row: dict[str, Any]) -> BookingInfo:
        if row["station"] and row["station"] != self.settings.station_id:
            raise self._wrong_station(row["station"])
        if row["status"] == "cancelled":
            raise DomainError("booking_cancelled")
        if row["service"] not in self.settings.services:
            raise DomainError("service_unknown", service=row["service"])
        day = date.fromisoformat(row["day"])
        return BookingInfo(
            id=row["id"], service=row["service"], day=day,
            slot_start=self._at(day, row["slot_start"]), slot_end=self._at(day, row["slot_end"]),
            priority=bool(row["priority"]), name_masked=shown_mask(row["name_masked"]),
            name=clean_name(row.get("name")) or None,
            birth_year=_birth_year(row), **_vaccine(row),
        )

    def _wrong_station(self, station: str) -> DomainError:
        """The refusal of another station's booking, naming that station when the station
        knows its name (the platform's directory, `stations`); "another station" when not."""
        return DomainError("booking_wrong_station", station=station,
                           station_name=self.store.station_name(station))

    def _at(self, day: date, hhmm: str | None) -> datetime | None:
        if not hhmm:
            return None
        # Not time.fromisoformat: the platform writes a slot ending at midnight as "24:00".
        hours, _, minutes = hhmm.partition(":")
        midnight = datetime.combine(day, time(0), tzinfo=self.settings.timezone)
        return midnight + timedelta(hours=int(hours), minutes=int(minutes or 0))


def _vaccine(row: dict[str, Any] | None) -> dict[str, Any]:
    """The booked vaccine of a booking row (`{"product", "dose", "previous_dose_on"}` as JSON),
    as BookingInfo's fields; nothing when the row has none or it does not parse."""
    try:
        vaccine = json.loads(row["vaccine"]) if row and row.get("vaccine") else None
        if not isinstance(vaccine, dict) or not isinstance(vaccine.get("product"), str):
            return {}
        dose = vaccine.get("dose")
        previous = vaccine.get("previous_dose_on")
        return {"vaccine": vaccine["product"],
                "dose": dose if isinstance(dose, int) and not isinstance(dose, bool) else None,
                "previous_dose_on": date.fromisoformat(previous) if previous else None}
    except (ValueError, TypeError):
        return {}


def _birth_year(row: dict[str, Any] | None) -> int | None:
    """The resident's birth year of a booking row, when the platform sent a plausible one."""
    year = row.get("birth_year") if row else None
    return year if isinstance(year, int) and not isinstance(year, bool) and year > 1900 \
        else None
