"""Parsing and checking of request bodies and query strings; pure, no I/O (central web layer)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from central.errors import CentralError

SLOT_MINUTES = 30
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_PHONE = re.compile(r"\+?[0-9][0-9 -]{4,19}")


@dataclass(frozen=True)
class NewBooking:
    station: str
    service: str
    day: date
    slot_start: int
    slot_end: int
    name: str
    phone: str
    birth_year: int | None
    priority: bool | None  # None: decided by the platform from age
    vaccine_product: str | None
    vaccine_dose: int | None


def minutes(text: str) -> int:
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ValueError(text)
    return int(match[1]) * 60 + int(match[2])


def hhmm(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def parse_slot(value: Any) -> tuple[int, int]:
    """`"08:00"` (30 minutes), `"08:00-08:30"` or `{"start", "end"}`."""
    try:
        if isinstance(value, dict):
            start, end = minutes(value["start"]), minutes(value["end"])
        elif isinstance(value, str) and "-" in value:
            left, right = value.split("-", 1)
            start, end = minutes(left.strip()), minutes(right.strip())
        elif isinstance(value, str):
            start = minutes(value)
            end = min(start + SLOT_MINUTES, 1440)
        else:
            raise ValueError(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise CentralError("field_invalid", field="slot", why="use HH:MM or HH:MM-HH:MM") from exc
    if end == 0:
        end = 1440  # "23:30-00:00" means until midnight
    if not start < end:
        raise CentralError("field_invalid", field="slot", why="the end must follow the start")
    return start, end


def parse_day(value: Any, field: str = "day") -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise CentralError("field_invalid", field=field, why="use YYYY-MM-DD") from exc


def _text(doc: dict[str, Any], key: str, prefix: str = "", max_len: int = 100) -> str:
    if key not in doc or doc[key] in (None, ""):
        raise CentralError("field_missing", field=prefix + key)
    value = doc[key]
    if not isinstance(value, str) or len(value.strip()) == 0 or len(value) > max_len:
        raise CentralError("field_invalid", field=prefix + key,
                           why=f"a text of 1 to {max_len} characters")
    return value.strip()


def _opt_int(doc: dict[str, Any], key: str, prefix: str, low: int, high: int) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CentralError("field_invalid", field=prefix + key, why=f"a number {low}-{high}")
    return value


def parse_new_booking(doc: Any) -> NewBooking:
    if not isinstance(doc, dict):
        raise CentralError("bad_json")
    station = _text(doc, "station", max_len=12)
    service = _text(doc, "service", max_len=2)
    if "day" not in doc:
        raise CentralError("field_missing", field="day")
    day = parse_day(doc["day"])
    if "slot" not in doc:
        raise CentralError("field_missing", field="slot")
    slot_start, slot_end = parse_slot(doc["slot"])
    resident = doc.get("resident")
    if not isinstance(resident, dict):
        raise CentralError("field_missing", field="resident")
    name = _text(resident, "name", "resident.", max_len=50)
    phone = _text(resident, "phone", "resident.", max_len=20)
    if not _PHONE.fullmatch(phone):
        raise CentralError("field_invalid", field="resident.phone", why="digits only")
    birth_year = _opt_int(resident, "birth_year", "resident.", 1880, 2200)
    priority = resident.get("priority", doc.get("priority"))
    if priority is not None and not isinstance(priority, bool):
        raise CentralError("field_invalid", field="priority", why="true or false")
    product = dose = None
    vaccine = doc.get("vaccine")
    if vaccine is not None:
        if not isinstance(vaccine, dict):
            raise CentralError("field_invalid", field="vaccine", why="an object")
        product = _text(vaccine, "product", "vaccine.", max_len=40)
        dose = _opt_int(vaccine, "dose", "vaccine.", 1, 10) or 1
    return NewBooking(station, service, day, slot_start, slot_end, name, phone, birth_year,
                      priority, product, dose)


def parse_cursor(value: str | None) -> int:
    if value in (None, ""):
        return 0
    assert value is not None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise CentralError("bad_cursor", cursor=value[:40])
    return int(value)


def parse_limit(value: str | None, default: int = 100, maximum: int = 500) -> int:
    if value in (None, ""):
        return default
    assert value is not None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value[:6]) <= maximum:
        raise CentralError("field_invalid", field="limit", why=f"a number 1-{maximum}")
    return int(value)
