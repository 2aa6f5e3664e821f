"""Web (layer 4): booking check-in without a scanner — staff search and family check-in.

`GET /api/v1/bookings?q=` and `POST /api/v1/bookings/<id>/checkin` are for staff at the
console (residents without a smartphone); `POST /api/v1/checkins/family` `{"codes": [...]}`
checks several codes in at once with consecutive numbers (kiosk or staff), and staff may send
`{"booking_ids": [...]}` instead for a family found by name or phone.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .. import presenter
from .api import checkin_json, private, station
from .errors import RequestError
from .inputs import body
from .security import current_principal, requires

bp = Blueprint("bookings_api", __name__)

MAX_QUERY = 32
MAX_FAMILY = 8  # more than a family; a longer list is a mistake or an abuse


@bp.get("/api/v1/bookings")
@requires("bookings.assist")
def search() -> Response:
    text = (request.args.get("q") or "").strip()
    if not text or len(text) > MAX_QUERY:
        raise RequestError("field_invalid", field="q")
    found = station().search_bookings(text)
    return jsonify({"bookings": [
        {"id": f["booking"]["id"], "name_masked": f["booking"]["name_masked"],
         "service": f["booking"]["service"], "slot": _slot(f["booking"]),
         "status": f["booking"]["status"], "checked_in": f["ticket"] is not None,
         "ticket": f["ticket"].number if f["ticket"] is not None else None,
         "ticket_id": f["ticket"].id if f["ticket"] is not None else None}
        for f in found
    ]})


def _slot(row: dict[str, str | None]) -> str | None:
    if not row.get("slot_start"):
        return None
    return f"{row['slot_start']}-{row['slot_end']}" if row.get("slot_end") else row["slot_start"]


@bp.post("/api/v1/bookings/<booking_id>/checkin")
@requires("bookings.assist")
def check_in_booking(booking_id: str) -> tuple[Response, int]:
    return checkin_json(station().check_in_booking(booking_id))


def _strings(data: dict[str, object], name: str) -> list[str]:
    values = data.get(name)
    if (not isinstance(values, list) or not 1 <= len(values) <= MAX_FAMILY
            or not all(isinstance(v, str) for v in values)):
        raise RequestError("field_invalid", field=name)
    return values


@bp.post("/api/v1/checkins/family")
@requires("checkin")
def check_in_family() -> tuple[Response, int]:
    data = body()
    if "booking_ids" in data:
        # staff at the console check in a family found by name or phone, without codes
        who = current_principal()
        if who is None or not who.can("bookings.assist"):
            raise RequestError("forbidden")
        results = station().check_in_family_bookings(_strings(data, "booking_ids"))
    else:
        results = station().check_in_family(_strings(data, "codes"))
    state, now = station().current()
    tickets = [presenter.ticket_view(state, state.tickets.get(r.ticket.id, r.ticket), now,
                                     private=private()).to_dict() for r in results]
    created = any(r.created for r in results)
    return jsonify({"tickets": tickets, "created": [r.created for r in results]}), \
        201 if created else 200
