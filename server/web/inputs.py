"""Web (layer 4): reading requests — the declared models of the API's JSON bodies and query
strings, and `takes`, which parses a view's input with them into the API's error shape.

A model is the one home of an input: it validates, its refusal becomes `field_missing` or
`field_invalid` naming the field (`body_invalid` when the body is not a JSON object), and
`server.web.openapi` writes its JSON schema into the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args

from flask import request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from contracts.protocol import DeviceHealth as HealthMessage

from .bodies import json_object
from .declare import view_doc
from .errors import RequestError

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])

MAX_FAMILY = 8  # more than a family; a longer list is a mistake or an abuse
MAX_QUERY = 32
CODE_MAX = 1024  # what contracts.bookingcode reads; longer is its `token_too_large` (413)


class Input(BaseModel):
    """A request body or query string: JSON's own types, strictly (`"yes"` is not true, `1`
    is not a text), unknown keys ignored as the API always did."""

    model_config = ConfigDict(strict=True, extra="ignore")
    # keys whose absence the API has always answered `field_invalid` rather than
    # `field_missing`, kept so clients see the codes they know
    invalid_when_missing: ClassVar[frozenset[str]] = frozenset()


def coded(code: Literal["field_missing", "field_invalid"], field: str = "") -> Exception:
    """An error a model's own check raises: answered as `code`, naming `field` (by default the
    field being validated)."""
    return PydanticCustomError(code, "{field}", {"field": field})


def refusal(model: type[BaseModel], err: ValidationError) -> RequestError:
    """The first thing wrong with the input (models check in field order), as the API says it."""
    first = err.errors(include_url=False)[0]
    loc = [str(part) for part in first["loc"] if isinstance(part, str)]
    field = (first.get("ctx") or {}).get("field") or ".".join(loc)
    kind = first["type"]
    if kind == "missing" and loc and loc[0] in getattr(model, "invalid_when_missing", ()):
        kind = "field_invalid"
    code = "field_missing" if kind in ("missing", "field_missing") else "field_invalid"
    return RequestError(code, field=field)


def parse(model: type[M], *, required: bool = True) -> M:
    """The request's JSON body as `model`, or the RequestError that refuses it."""
    # null has always meant "not given" in this API
    data = {key: value for key, value in json_object(required).items() if value is not None}
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise refusal(model, err) from None


def parse_query(model: type[M]) -> M:
    """The query string as `model` (the first value of each key)."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as err:
        raise refusal(model, err) from None


def takes(model: type[BaseModel] | None = None, *, query: type[BaseModel] | None = None,
          required: bool = True) -> Callable[[F], F]:
    """Parse the view's JSON body with `model` (passed as `body=`) and its query string with
    `query` (as `query=`), and declare both for the OpenAPI document. Put it right above the
    view, under `requires`, so that who is asking is checked before what they sent."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if query is not None:
                kwargs["query"] = parse_query(query)
            if model is not None:
                kwargs["body"] = parse(model, required=required)
            return view(*args, **kwargs)

        doc = view_doc(wrapper)
        if model is not None:
            doc["body"] = (model, required)
        if query is not None:
            doc["query"] = query
        return wrapper  # type: ignore[return-value]

    return decorate


# --- lenient parts: what a device reports is cleaned, not refused --------------------------

def _text(limit: int) -> Callable[[Any], str | None]:
    def clean(value: Any) -> str | None:
        return value[:limit] if isinstance(value, str) else None

    return clean


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _one_of(states: tuple[str, ...]) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        return value if value in states else "unknown"

    return clean


Text = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_text(200))]
Count = Annotated[int, Field(ge=0), BeforeValidator(_count)]
ScannerState = Literal["ok", "lost", "connecting", "ended", "closed", "unknown"]
PrinterState = Literal["ready", "paper_near_end", "paper_out", "cover_open", "offline",
                       "unknown"]


class ScannerHealth(BaseModel):
    state: Annotated[ScannerState, BeforeValidator(_one_of(get_args(ScannerState)))] = "unknown"
    source: Text = None
    detail: Text = None
    last_error: Text = None


class PrinterHealth(BaseModel):
    state: Annotated[PrinterState, BeforeValidator(_one_of(get_args(PrinterState)))] = "unknown"
    source: Text = None
    detail: Text = None
    last_error: Text = None


def _version(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise coded("field_invalid")
    return value[:40]


class DeviceHealth(Input):
    """What a kiosk agent reports about itself; unknown fields are dropped, texts cut to 200
    characters (a device's token may be stolen, and its text reaches the console)."""

    model_config = ConfigDict(strict=False)  # cleaned leniently, field by field
    invalid_when_missing = frozenset({"version", "scanner", "printer"})

    version: Annotated[str, BeforeValidator(_version), Field(min_length=1, max_length=40)]
    scanner: ScannerHealth
    printer: PrinterHealth
    last_scan_at: Text = None
    last_checkin_at: Text = None
    held_scans: Count = 0  # scans kept while the station was unreachable
    print_failures: Count = 0

    def message(self) -> HealthMessage:
        return HealthMessage.from_dict(self.model_dump())


# --- the station API's bodies --------------------------------------------------------------

class Login(Input):
    username: str
    password: str


class Checkin(Input):
    # not bounded here: contracts.bookingcode refuses a longer text as `token_too_large`
    code: str = Field(json_schema_extra={"maxLength": CODE_MAX})


class WalkIn(Input):
    service: str
    priority: bool = False


class TicketAction(Input):
    counter: str | None = None
    service: str | None = Field(None, description="the service to transfer to")


class Reprint(Input):
    kiosk: str | None = Field(None, description="a kiosk's device id")


class FamilyCheckin(Input):
    """codes (kiosk or staff), or booking_ids (staff at the console, for a family found by
    name or phone)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["codes"]},
                                                           {"required": ["booking_ids"]}]})

    booking_ids: list[str] | None = Field(None, min_length=1, max_length=MAX_FAMILY)
    codes: list[Annotated[str, Field(json_schema_extra={"maxLength": CODE_MAX})]] | None = \
        Field(None, min_length=1, max_length=MAX_FAMILY)

    @model_validator(mode="after")
    def _some(self) -> FamilyCheckin:
        if self.booking_ids is None and self.codes is None:
            raise coded("field_invalid", "codes")
        return self


class KioskNotice(Input):
    """The kiosk agent asks the station to tell its own screen something (the protocol's
    KioskNotice)."""

    invalid_when_missing = frozenset({"code"})

    code: Literal["print_failed", "not_a_booking"]
    ticket_id: str | None = Field(None, description="print_failed: the ticket whose number "
                                                    "the screen shows again")
    detail: Text = Field(None, description="for the log and the console, never shown to "
                                           "residents")

    @model_validator(mode="after")
    def _ticket_for_print_failed(self) -> KioskNotice:
        if self.code == "print_failed" and self.ticket_id is None:
            raise coded("field_missing", "ticket_id")
        return self


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class BookingSearch(Input):
    invalid_when_missing = frozenset({"q"})

    q: Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=MAX_QUERY)] = \
        Field(description="a name fragment or the phone's last 4 digits")


def _real_date(value: str) -> str:
    date.fromisoformat(value)  # 2026-02-30 is no day
    return value


class ReconciliationQuery(Input):
    invalid_when_missing = frozenset({"day"})

    day: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
                   AfterValidator(_real_date)] = Field(
        description="the station's local date, YYYY-MM-DD")
    items: Literal["0", "1"] = Field("0", description="`1`: list each event's seq, id, hash")


# --- the vaccination pathway ---------------------------------------------------------------

Reason = Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=500)]


class ScreeningAnswers(Input):
    """Question id -> the resident's answer; a question left out was not asked (skipped at
    the kiosk, to be asked at the desk)."""

    answers: dict[str, bool] = Field(description="`{question id: true|false}`; ids of "
                                                 "`GET /api/v1/screening/questions`")


class DoctorDecision(Input):
    reason: Reason


class Vaccinate(Input):
    """One dose. `trace_code` is checked by the station (20 digits, the booked product's
    prefix, not used before, lot not expired), so any text is accepted here."""

    trace_code: str = Field(json_schema_extra={"maxLength": 64},
                            description="the dose box's 20-digit trace code as scanned")
    site: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        description="injection site, e.g. left_deltoid")
    route: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        description="route, e.g. intramuscular")
    checklist: dict[str, bool] | None = Field(
        None, description="三查七对 as ticked: name, age, vaccine, specification, dose, site, "
                          "route")
    override_reason: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        None, description="a doctor's reason to give a dose before its interval has passed")
    dose: Annotated[int, Field(ge=1, le=10)] | None = Field(
        None, description="for a walk-in: which dose (a booking says it)")


class Reaction(Input):
    symptoms: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        max_length=20, description="symptom ids from the console's list")
    note: Annotated[str, Field(max_length=500)] = ""
    severity: Literal["mild", "moderate", "severe"]
    action: Annotated[str, Field(max_length=200)] = Field("", description="action taken")


# --- the waiting room --------------------------------------------------------------------------

NoticeText = Annotated[str, Field(min_length=1, max_length=200)]


class NoticePost(Input):
    """A community notice for the display's and the kiosk's ticker."""

    text: NoticeText = Field(description="the notice in Chinese, shown as text")
    text_en: Annotated[str, Field(max_length=200)] = ""
    minutes: Annotated[int, Field(ge=1, le=60 * 24 * 31)] | None = Field(
        None, description="shown for this many minutes; absent: until removed")

    @model_validator(mode="after")
    def _not_blank(self) -> NoticePost:
        if not self.text.strip():
            raise coded("field_invalid", "text")
        return self


class DisplayHealth(Input):
    """What a display reports about itself: whether its sound is on; cleaned, not refused."""

    model_config = ConfigDict(strict=False)
    invalid_when_missing = frozenset({"version", "sound"})

    version: Annotated[str, BeforeValidator(_version), Field(min_length=1, max_length=40)]
    sound: Literal["on", "off"]
    engine: Text = None  # "station" (audio files) or "browser" (speechSynthesis)
    played: Count = 0  # announcements played since the page loaded
    failed: Count = 0  # announcements that could not be played
    queued: Count = 0
    last_error: Text = None
    dom_nodes: Count = 0
    viewport: Text = None


class PairingStart(Input):
    """What a device says of itself when it asks to be paired (a hint for the admin)."""

    kind: Literal["kiosk", "display"] | None = None


class PairDevice(Input):
    """The admin's approval of the code a new device shows."""

    code: str = Field(min_length=1, max_length=16, description="as the device shows it; case, "
                      "spaces and the dash do not matter")
    name: str = Field(min_length=1, max_length=40, description="e.g. 大厅自助机 2")
    kind: Literal["kiosk", "display"]


class RenameDevice(Input):
    name: str = Field(min_length=1, max_length=40)
