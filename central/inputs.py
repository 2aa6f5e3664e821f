"""Request bodies and query strings as declared pydantic models, their refusals as
CentralError codes; pure, no I/O (central web layer)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from central.errors import CentralError
from contracts.names import clean_name

SLOT_MINUTES = 30
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_PHONE = re.compile(r"\+?[0-9][0-9 -]{4,19}")
# what a model's own checks raise: a CentralError code, its details in the error's context
_CODED = frozenset({"field_missing", "field_invalid", "bad_cursor", "name_invisible"})
M = TypeVar("M", bound=BaseModel)


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


def coded(code: str, **details: object) -> PydanticCustomError:
    """A refusal from a model's own check, answered as CentralError(code, **details); a
    field_missing or field_invalid without `field` names the field being validated."""
    return PydanticCustomError(code, code, details)


def invalid(why: str, field: str = "") -> PydanticCustomError:
    return coded("field_invalid", why=why, field=field)


def refusal(err: ValidationError) -> CentralError:
    """The first thing wrong (models check in field order), as the platform says it."""
    first = err.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"] if isinstance(part, str))
    kind, details = first["type"], dict(first.get("ctx") or {})
    if kind == "missing":
        kind = "field_missing"
    if kind not in _CODED:  # a check of pydantic's own: its message says why
        kind, details = "field_invalid", {"why": first["msg"].lower()}
    if kind in ("field_missing", "field_invalid"):
        details["field"] = details.get("field") or where
    if kind == "field_missing":
        details.pop("why", None)
    return CentralError(kind, **details)


def parse(model: type[M], data: Any) -> M:
    """`data` (a decoded JSON body or a query string's dict) as `model`, or the CentralError
    that refuses it; a body that is not a JSON object is `body_invalid`."""
    if not isinstance(data, dict):
        raise CentralError("body_invalid")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise refusal(err) from None


class Input(BaseModel):
    """JSON's own types, strictly (`"1"` is not a number); unknown keys ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


# --- checks of one value -------------------------------------------------------------------

def _text(max_len: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value is None or value == "":
            raise coded("field_missing")
        if not isinstance(value, str) or not value.strip() or len(value) > max_len:
            raise invalid(f"a text of 1 to {max_len} characters")
        return value.strip()

    return check


def _name(value: Any) -> str:
    """A resident's name, cleaned once here where it enters (contracts/names.py): one of
    nothing but invisible characters (zero-width spaces, direction marks) is refused."""
    name = clean_name(_text(50)(value))
    if not name:
        raise coded("name_invisible")
    return name


def _phone(value: Any) -> str:
    text = _text(20)(value)
    if not _PHONE.fullmatch(text):
        raise invalid("digits only")
    return text


def _number(low: int, high: int) -> Callable[[Any], int | None]:
    def check(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(f"a number {low}-{high}")
        return value

    return check


def _flag(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise invalid("true or false", field="priority")
    return value


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise invalid("use YYYY-MM-DD") from None


def _slot(value: Any) -> tuple[int, int]:
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
    except (KeyError, TypeError, ValueError):
        raise invalid("use HH:MM or HH:MM-HH:MM") from None
    if end == 0:
        end = 1440  # "23:30-00:00" means until midnight
    if not start < end:
        raise invalid("the end must follow the start")
    return start, end


def _object_or_missing(value: Any) -> Any:
    # a resident that is no object is as good as none
    if not isinstance(value, dict):
        raise coded("field_missing")
    return value


def _object_or_none(value: Any) -> Any:
    if value is not None and not isinstance(value, dict):
        raise invalid("an object")
    return value


# --- POST /api/v1/bookings -----------------------------------------------------------------

class Resident(Input):
    name: Annotated[str, BeforeValidator(_name)]
    phone: Annotated[str, BeforeValidator(_phone)]
    birth_year: Annotated[int | None, BeforeValidator(_number(1880, 2200))] = None
    priority: Annotated[bool | None, BeforeValidator(_flag)] = None


class Vaccine(Input):
    product: Annotated[str, BeforeValidator(_text(40))]
    dose: Annotated[int | None, BeforeValidator(_number(1, 10))] = None


class BookingRequest(Input):
    station: Annotated[str, BeforeValidator(_text(12))]
    service: Annotated[str, BeforeValidator(_text(2))]
    day: Annotated[date, BeforeValidator(_day)]
    slot: Annotated[tuple[int, int], BeforeValidator(_slot)]
    resident: Annotated[Resident, BeforeValidator(_object_or_missing)]
    priority: Annotated[bool | None, BeforeValidator(_flag)] = None  # or the resident's
    vaccine: Annotated[Vaccine | None, BeforeValidator(_object_or_none)] = None

    def new_booking(self) -> NewBooking:
        resident = self.resident
        priority = resident.priority if "priority" in resident.model_fields_set \
            else self.priority
        vaccine = self.vaccine
        return NewBooking(
            self.station, self.service, self.day, self.slot[0], self.slot[1], resident.name,
            resident.phone, resident.birth_year, priority,
            vaccine.product if vaccine else None, (vaccine.dose or 1) if vaccine else None)


def parse_new_booking(doc: Any) -> NewBooking:
    return parse(BookingRequest, doc).new_booking()


# --- POST /api/v1/keys/rotate --------------------------------------------------------------

def _kid(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise coded("field_missing")
    if not (value.isascii() and value.isalnum() and len(value) <= 4):
        raise invalid("1-4 ASCII letters or digits")
    return value


class KeyRotation(Input):
    kid: Annotated[str, BeforeValidator(_kid)]


# --- query strings -------------------------------------------------------------------------

def _cursor(value: Any) -> int:
    if value in (None, ""):
        return 0
    if not (isinstance(value, str) and value.isascii() and value.isdigit()) or len(value) > 18:
        raise coded("bad_cursor", cursor=str(value)[:40])
    return int(value)


def _limit(default: int, maximum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if value in (None, ""):
            return default
        if not (isinstance(value, str) and value.isascii() and value.isdigit()) \
                or not 1 <= int(value[:6]) <= maximum:
            raise invalid(f"a number 1-{maximum}")
        return int(value)

    return check


class FeedQuery(Input):
    """`?cursor=` (the last `next_cursor`, default 0) and `?limit=` (1-500, default 100)."""

    cursor: Annotated[int, BeforeValidator(_cursor)] = 0
    limit: Annotated[int, BeforeValidator(_limit(100, 500))] = 100


def _day_or_today(value: Any) -> date | None:
    return None if value in (None, "") else _day(value)


class DayQuery(Input):
    """`?day=YYYY-MM-DD`; none: the platform's today."""

    day: Annotated[date | None, BeforeValidator(_day_or_today)] = None


# --- PUT /api/v1/vaccines/<code> -----------------------------------------------------------

_PRODUCT = re.compile(r"[A-Za-z0-9_-]{1,40}")
_PREFIX = re.compile(r"[0-9]{7}")
_SERIAL = re.compile(r"[0-9]{13}")


def _count(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if value is None:
            raise coded("field_missing")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(f"a number {low}-{high}")
        return value

    return check


def _trace_prefix(value: Any) -> str:
    if value is None or value == "":
        raise coded("field_missing")
    if not isinstance(value, str) or not _PREFIX.fullmatch(value):
        raise invalid("7 digits")
    return value


def _serials(value: Any) -> tuple[str, str]:
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, str) and _SERIAL.fullmatch(v) for v in value)):
        raise invalid("[first, last]: two 13-digit serials")
    if value[0] > value[1]:
        raise invalid("the first serial must not follow the last")
    return value[0], value[1]


def _lots(value: Any) -> Any:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(lot, dict) for lot in value):
        raise invalid("a list of lots")
    names = [lot.get("lot") for lot in value]
    if len(set(map(str, names))) != len(names):
        raise invalid("each lot once")
    return value


class Lot(Input):
    lot: Annotated[str, BeforeValidator(_text(40))]
    expires: Annotated[date, BeforeValidator(_day)]
    serials: Annotated[tuple[str, str], BeforeValidator(_serials)]


class VaccineProduct(Input):
    """A product of the vaccine catalog with its known lots; `code` comes from the URL."""

    code: Annotated[str, BeforeValidator(_text(40))]
    name: Annotated[str, BeforeValidator(_text(200))]
    name_en: Annotated[str, BeforeValidator(_text(200))]
    maker: Annotated[str, BeforeValidator(_text(200))]
    doses: Annotated[int, BeforeValidator(_count(1, 10))]
    interval_days: Annotated[int, BeforeValidator(_count(0, 3650))] = 0
    trace_prefix: Annotated[str, BeforeValidator(_trace_prefix)]
    observation_minutes: Annotated[int, BeforeValidator(_count(0, 240))] = 30
    lots: Annotated[list[Lot], BeforeValidator(_lots)] = []

    @model_validator(mode="after")
    def _serials_name_one_lot(self) -> VaccineProduct:
        ranges = sorted(lot.serials for lot in self.lots)
        if any(left[1] >= right[0] for left, right in zip(ranges, ranges[1:], strict=False)):
            raise invalid("the serial ranges of two lots overlap", field="lots")
        return self


def parse_vaccine(code: str, doc: Any) -> VaccineProduct:
    """`doc` as the product `code` (the URL's, whatever the body says)."""
    if not _PRODUCT.fullmatch(code):
        raise CentralError("field_invalid", field="code", why="1-40 of A-Z a-z 0-9 _ -")
    if not isinstance(doc, dict):
        raise CentralError("body_invalid")
    return parse(VaccineProduct, {**doc, "code": code})
