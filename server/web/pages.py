"""Web (layer 4): the index and the nurse console pages (the kiosk and display pages live in
kiosk/ and display/)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from .security import csrf_token, current_principal

bp = Blueprint("pages", __name__)


def ui_strings() -> dict[str, str]:
    """Texts the pages' JavaScript shows, translated for the request's language."""
    from flask_babel import gettext as _

    return {
        "waiting": _("waiting"), "called": _("called"), "serving": _("serving"),
        "done": _("done"), "no_show": _("no-show"), "cancelled": _("cancelled"),
        "transferred": _("transferred"), "booked": _("booked"), "walkin": _("walk-in"),
        "priority": _("priority"), "late": _("late"), "early": _("early"),
        "minutes": _("min"), "people_waiting": _("waiting"), "now_calling": _("Now calling"),
        "please_go": _("please go to"), "offline": _("Connection lost, reconnecting…"),
        "nothing": _("Nobody is waiting"), "your_number": _("Your number"),
        "position": _("Position"), "eta": _("Estimated wait"), "ahead": _("ahead of you"),
        "again": _("You checked in already; here is your ticket again."),
        "counter_idle": _("No ticket at this counter"), "choose_counter": _("Choose a counter"),
        "confirm_transfer": _("Transfer to which service?"),
        "reprint_sent": _("sent to the kiosk printer"), "error": _("Something went wrong"),
    }


@bp.get("/")
def index() -> str:
    ext = current_app.extensions["clinicq"]
    return render_template("index.html", settings=ext.settings)


@bp.get("/console")
def console() -> str:
    ext = current_app.extensions["clinicq"]
    who = current_principal()
    staff = who if who is not None and who.kind == "staff" else None
    return render_template("console.html", settings=ext.settings, user=staff,
                           csrf_token=csrf_token() if staff else None, strings=ui_strings())
