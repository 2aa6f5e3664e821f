"""Web (layer 4): booking check-in without a scanner — staff search and family check-in.

`GET /api/v1/bookings?q=` and `POST /api/v1/bookings/<id>/checkin` are for staff at the
console (residents without a smartphone); `POST /api/v1/checkins/family` `{"codes": [...]}`
checks several codes in at once with consecutive numbers (kiosk or staff), and staff may send
`{"booking_ids": [...]}` instead for a family found by name or phone.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .. import presenter
from .api import checkin_json, kiosk_id, private, staff, station
from .declare import answers
from .errors import RequestError
from .inputs import BookingSearch, FamilyCheckin, takes
from .security import current_principal, requires
from .shapes import BookingMatches, CheckinTicket, FamilyTickets

bp = Blueprint("bookings_api", __name__)


@bp.get("/api/v1/bookings")
@requires("bookings.assist")
@answers(200, "at most 20 matches, by slot", BookingMatches)
@takes(query=BookingSearch)
def search(query: BookingSearch) -> Response:
    """Staff: today's bookings matching a name fragment or the phone's last 4 digits"""
    found = station().search_bookings(query.q)
    return jsonify({"bookings": [
        {"id": f["booking"]["id"], "name": f["booking"].get("name") or None,
         "name_masked": f["booking"]["name_masked"],
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
@answers(201, "a new ticket", CheckinTicket)
@answers(200, "checked in before: the same ticket", CheckinTicket)
def check_in_booking(booking_id: str) -> tuple[Response, int]:
    """Staff: check a booking in without its code (resident without a smartphone)"""
    return checkin_json(station().check_in_booking(booking_id))


@bp.post("/api/v1/checkins/family")
@requires("checkin")
@answers(201, "the tickets, in the order of the codes", FamilyTickets)
@answers(200, "all were checked in before: the same tickets", FamilyTickets)
@takes(FamilyCheckin)
def check_in_family(body: FamilyCheckin) -> tuple[Response, int]:
    """Check several booking codes in at once (a family): consecutive numbers

    Every code is checked first; one refused code refuses them all (the error is that code's).
    Codes already checked in keep their ticket. 201 when at least one ticket is new, else 200.
    """
    if body.booking_ids is not None:
        # staff at the console check in a family found by name or phone, without codes
        who = current_principal()
        if who is None or not who.can("bookings.assist"):
            raise RequestError("forbidden")
        results = station().check_in_family_bookings(body.booking_ids)
    else:
        assert body.codes is not None  # the model asks for one of the two
        results = station().check_in_family(body.codes, issued_by=kiosk_id())
    state, now = station().current()
    # the codes presented are the residents' own: their tickets with codes, as check_in's
    tickets = [presenter.ticket_view(state, state.tickets.get(r.ticket.id, r.ticket), now,
                                     private=private(), staff=staff()).to_dict()
               for r in results]
    created = any(r.created for r in results)
    return jsonify({"tickets": tickets, "created": [r.created for r in results]}), \
        201 if created else 200
