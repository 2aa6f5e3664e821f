"""Web (layer 4): the public API v1 — views parse, call the station service, and answer JSON."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from contracts import i18n
from contracts.protocol import AGENT, SOURCE_HEADER, TICKET_ACTIONS

from .. import presenter, views
from ..engine.model import Ticket as TicketModel
from ..station import CheckinResult, StationService
from . import audit_views
from .declare import answers, parameter
from .errors import RequestError
from .inputs import Checkin, Login, TicketAction, WalkIn, takes
from .kiosklink import kiosks
from .limits import guarded_login, spend_kiosk_budget
from .security import (
    accounts,
    csrf_token,
    current_principal,
    end_sessions,
    passive,
    requires,
    start_session,
)
from .shapes import CheckinTicket, CounterState, LoggedIn, Me, Ok, Ticket, Tickets

bp = Blueprint("api", __name__)


def station() -> StationService:
    return current_app.extensions["clinicq"].station  # type: ignore[no-any-return]


def private() -> bool:
    who = current_principal()
    return who is not None and who.role in ("nurse", "doctor", "admin", "kiosk")


def staff() -> bool:
    """A person logged in at a console: sees the full names (a kiosk prints masked ones)."""
    who = current_principal()
    return who is not None and who.kind == "staff"


def kiosk_id() -> str | None:
    """The kiosk asking (its screen or agent), if one is: its tickets are issued by it."""
    who = current_principal()
    return who.id if who is not None and who.kind == "device" and who.role == "kiosk" else None


def private_for(ticket: TicketModel) -> bool:
    """Whether the caller may see `ticket`'s code and booking: staff, and a kiosk for the
    tickets it issued (views.Audience)."""
    kiosk = kiosk_id()
    return ticket.issued_by == kiosk if kiosk is not None else private()


def ticket_json(ticket_id: str, status: int = 200) -> tuple[Response, int]:
    state, ticket, now = station().ticket(ticket_id)
    view = presenter.ticket_view(state, ticket, now, private=private_for(ticket),
                                 staff=staff())
    return jsonify(view.to_dict()), status


def checkin_json(result: CheckinResult) -> tuple[Response, int]:
    """A check-in's answer: the ticket (201 new, 200 the same one again), with a notice when
    the resident was late and is queued as a walk-in."""
    state, ticket, now = station().ticket(result.ticket.id)
    # with its code even when another kiosk checked it in first: the booking code presented
    # is the resident's own, and the kiosk prints the ticket again
    view = presenter.ticket_view(state, ticket, now, private=private(),
                                 staff=staff()).to_dict()
    if result.created and ticket.late and ticket.slot_end is not None:
        slot = f"{ticket.slot_start:%H:%M}-{ticket.slot_end:%H:%M}"
        view["notice"] = i18n.notice("booking_late", slot=slot)
    return jsonify(view), 201 if result.created else 200


# the kiosk agent tags its requests; the kiosk screen, with the same token, does not
from_kiosk_agent = parameter(SOURCE_HEADER, "header", "`agent` when the kiosk agent asks; the "
                             "kiosk screen sends none", required=False, enum=[AGENT])


@bp.get("/healthz")
@answers(200, "healthy")
@answers(503, "the store cannot be used")
def healthz() -> tuple[Response, int]:
    """Whether the server can serve, with store and sync state"""
    ext = current_app.extensions["clinicq"]
    store_ok = ext.store.healthy()
    body_ = {
        "status": "ok" if store_ok else "degraded",
        "station": ext.settings.station_id,
        "store": {"ok": store_ok, "seq": ext.station.state.seq},
        "sync": current_app.extensions["clinicq.sync"].status(),
    }
    return jsonify(body_), 200 if store_ok else 503


@bp.post("/api/v1/login")
@answers(200, "logged in", LoggedIn)
@answers(429, "`login_throttled`: too many failed logins from this address or for this "
         "account; wait `Retry-After` seconds (until then even the right password is refused)")
@takes(Login)
def login(body: Login) -> Response:
    """Staff login; sets a new session cookie (any earlier one of this browser ends) and
    returns csrf_token

    After 5 failures from one address (or 10 for one account from several addresses) each
    try waits 30 s, doubling with each further failure, at most 5 minutes.
    """
    who = guarded_login(body.username,
                        lambda: accounts().login(body.username, body.password))
    if who is None:
        audit_views.login_failed(body.username)
        raise RequestError("login_failed")
    audit_views.logged_in(who)
    csrf = start_session(who)
    return jsonify({"user": who.id, "name": who.name, "role": who.role, "csrf_token": csrf})


@bp.post("/api/v1/logout")
@answers(200, "logged out", Ok)
def logout() -> Response:
    """End the staff member's sessions: every one of theirs, on every browser, and their live
    connections with them"""
    who = current_principal()
    audit_views.logged_out(who)
    if who is not None and who.kind == "staff":
        end_sessions(who.id)
    return jsonify({"ok": True})


@bp.get("/api/v1/me")
@requires("watch")
@answers(200, "who is asking", Me)
def me() -> Response:
    """Who is asking"""
    who = current_principal()
    assert who is not None
    return jsonify({"id": who.id, "kind": who.kind, "role": who.role, "name": who.name,
                    "csrf_token": csrf_token() if who.kind == "staff" else None})


@bp.post("/api/v1/checkins")
@requires("checkin")
@answers(201, "a new ticket", CheckinTicket)
@answers(200, "checked in before: the same ticket, for a reprint", CheckinTicket)
@answers(429, "`too_many_requests`: this kiosk checks in too fast; wait `Retry-After` seconds")
@from_kiosk_agent
@takes(Checkin)
def check_in(body: Checkin) -> tuple[Response, int]:
    """Check a booking in by its scanned or typed code

    `code` is the scanned text: a signed booking QR code (`BK1:...`, verified offline with the
    platform keys cached at the station; docs/booking-token.md), or a typed demo code
    (`DEMO-V001`). Refusals: `token_empty` 400, `token_too_large` 413, `token_wrong_prefix`
    400, `token_bad_encoding` 400, `token_bad_cbor` 400, `token_bad_shape` 400,
    `token_unknown_key` 422, `token_retired_key` 422, `token_bad_signature` 422,
    `clock_suspect` 422, `booking_wrong_station` 422, `booking_wrong_day` 422,
    `booking_expired` 422, `booking_cancelled` 422, `booking_too_early` 422,
    `booking_too_late` 422, `booking_unknown` 404, `service_unknown` 404. From a kiosk's
    device token the answer is also pushed to that kiosk (Socket.IO `kiosk.result`, with
    `source` `agent` when the request carries `X-Clinicq-Source: agent`, else `screen`); the
    kiosk agent prints the tickets its screen asked for.
    """
    def answer() -> tuple[Response, int]:
        spend_kiosk_budget()  # so many a minute per kiosk (config.toml)
        return checkin_json(station().check_in(body.code, issued_by=kiosk_id()))

    return kiosks.relay(answer)


@bp.post("/api/v1/tickets")
@requires("walkin")
@answers(201, "the new ticket", Ticket)
@answers(429, "`too_many_requests`: this kiosk takes numbers too fast; wait `Retry-After` "
         "seconds")
@from_kiosk_agent
@takes(WalkIn)
def walk_in(body: WalkIn) -> tuple[Response, int]:
    """A walk-in ticket

    From a kiosk's device token the answer is also pushed to that kiosk (Socket.IO
    `kiosk.result`, with `source` `agent` when the request carries `X-Clinicq-Source: agent`,
    else `screen`); the kiosk agent prints the tickets its screen asked for.
    """
    def answer() -> tuple[Response, int]:
        spend_kiosk_budget()  # the same bucket as check-ins
        return ticket_json(station().walk_in(body.service, priority=body.priority,
                                               issued_by=kiosk_id()).id, 201)

    return kiosks.relay(answer)


@bp.get("/api/v1/tickets/<ticket_id>")
@requires("ticket.read")
@answers(200, "the ticket", Ticket)
def get_ticket(ticket_id: str) -> tuple[Response, int]:
    """One ticket with its position and estimated wait"""
    return ticket_json(ticket_id)


@bp.post("/api/v1/counters/<counter>/call-next")
@requires("serve")
@answers(200, "the called ticket", Ticket)
def call_next(counter: str) -> tuple[Response, int]:
    """The counter calls its next ticket; 409 queue_empty when none waits"""
    return ticket_json(station().call_next(counter).id)


@bp.post("/api/v1/tickets/<ticket_id>/<action>")
@requires("serve")
@answers(200, "the ticket after the action", Ticket)
@parameter("action", enum=list(TICKET_ACTIONS))
@takes(TicketAction, required=False)
def ticket_action(ticket_id: str, action: str, body: TicketAction) -> tuple[Response, int]:
    """recall, start, complete, no-show, requeue, cancel, transfer (with service) or restore
    (a no-show back into the queue with its number)"""
    ticket = station().act(ticket_id, action, counter=body.counter, service=body.service)
    return ticket_json(ticket.id)


def counter_json(counter: str) -> Response:
    state, now = station().current()
    settings = current_app.extensions["clinicq"].settings
    view = next(c for c in presenter.counter_views(state, settings, now, private=private(),
                                                   staff=staff())
                if c["id"] == counter)
    return jsonify({"counter": view})


@bp.post("/api/v1/counters/<counter>/pause")
@requires("serve")
@answers(200, "the counter, paused", CounterState)
def pause(counter: str) -> Response:
    """The counter goes on a break: it calls nobody and is left out of the wait estimate
    until resumed or until it calls next; 409 counter_busy while a called resident is on the
    way"""
    station().pause(counter)
    return counter_json(counter)


@bp.post("/api/v1/counters/<counter>/resume")
@requires("serve")
@answers(200, "the counter, open again", CounterState)
def resume(counter: str) -> Response:
    """The counter is back from its break"""
    station().resume(counter)
    return counter_json(counter)


@bp.post("/api/v1/counters/<counter>/undo")
@requires("serve")
@answers(200, "the tickets put back", Tickets)
def undo(counter: str) -> Response:
    """Undo the counter's last action"""
    tickets = station().undo(counter)
    state, now = station().current()
    return jsonify({"tickets": [
        presenter.ticket_view(state, state.tickets.get(t.id, t), now, staff=True).to_dict()
        for t in tickets
    ]})


@bp.get("/api/v1/no-shows")
@passive  # fetched when a no-show event arrives: no use of the session
@requires("serve")
@answers(200, "today's no-shows, the latest first", Tickets)
def no_shows() -> Response:
    """Today's no-shows, for the desk's list ("过号请到服务台"): each can be restored
    (`POST /api/v1/tickets/<id>/restore`, back into the queue with its number) or reprinted"""
    state, now = station().current()
    missed = sorted((t for t in state.tickets.values() if t.status == "no_show"),
                    key=lambda t: t.finished_at or t.issued_at, reverse=True)
    return jsonify({"tickets": [presenter.ticket_view(state, t, now, staff=True).to_dict()
                                for t in missed]})


@bp.get("/api/v1/state")
@requires("watch")
@answers(200, "the snapshot")
def state() -> Response:
    """The full snapshot: station, seq, services with waiting tickets, counters, recent calls,
    observation — in the caller's view: staff everything; a display numbers, counters and
    masked names where shown, no codes or bookings; a kiosk only the tickets it issued, with
    their codes (server/views.py)"""
    who = current_principal()
    assert who is not None
    st, now = station().current()
    shared = current_app.extensions["clinicq.sockets"].snapshots.get(
        st, now, views.Audience.of(who))
    return jsonify({**shared, "now": now.isoformat(timespec="seconds")})
