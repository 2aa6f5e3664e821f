"""Web (layer 4): the ticket's phone page, `/t/<code>` — no login, no name; the code is the key.

The page carries its ticket as it is now and follows it live over Socket.IO
(`auth={"ticket": code}`, server.web.realtime). An unknown, old or malformed code gets the same
plain 404 page, so the answer never tells whether a code ever existed.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import presenter
from .declare import answers

bp = Blueprint("phone", __name__)


def phone_strings() -> dict[str, str]:
    return {
        "waiting": _("Waiting"), "called": _("It's your turn"), "serving": _("Being served"),
        "done": _("Done, thank you"), "no_show": _("Missed: please ask at the desk"),
        "cancelled": _("Cancelled"), "observing": _("In observation"),
        "released": _("Observation over: you may leave"), "deferred": _("Please see the doctor"),
        "transferred": _("Moved on"),
        "go_to": _("please go to %(counter)s", counter="{counter}"),
        "ahead": _("%(n)s ahead of you", n="{n}"), "next": _("You are next"),
        "minutes": _("about %(n)s min", n="{n}"), "offline": _("Reconnecting…"),
        "updated": _("updated %(time)s", time="{time}"),
        "minutes_left": _("%(n)s min left", n="{n}"),
        "screening": _("Screening"), "vaccination": _("Vaccination"),
        "observation": _("Observation"),
    }


@bp.get("/t/<path:code>")
@answers(200, "the ticket's page (HTML)")
@answers(404, "no such ticket today (HTML), whatever the code")
def ticket_page(code: str) -> Response:
    """The ticket's phone page: number, service, stage, position, wait, live; no login

    The code is the ticket's unguessable `code` (96 bits, printed as the ticket's QR code).
    Unknown, old and malformed codes all get the same plain 404 page.
    """
    ext = current_app.extensions["clinicq"]
    state, now = ext.station.current()
    ticket = presenter.ticket_by_code(state, code)
    english = str(get_locale()) == "en"
    if ticket is None:
        response = make_response(render_template("phone_missing.html"), 404)
    else:
        settings = ext.settings
        page = {
            "code": code, "strings": phone_strings(),
            "start": presenter.phone_snapshot(state, ticket, settings, now),
            "services": {c: s.name_en if english else s.name
                         for c, s in settings.services.items()},
            "counters": {c: i.name_en if english else i.name
                         for c, i in settings.counters.items()},
        }
        svc = settings.services.get(ticket.service)
        response = make_response(render_template(
            "phone.html", page=page, number=ticket.number,
            station=settings.station_name_en if english else settings.station_name,
            service=(svc.name_en if english else svc.name) if svc else ticket.service))
    # the code is in the URL: keep it out of other sites' logs and out of shared caches
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
