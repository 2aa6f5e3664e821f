"""Kiosk screen (served by the station server): the page a kiosk's browser shows."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/kiosk-static")


@bp.get("/kiosk")
def screen() -> str:
    ext = current_app.extensions["clinicq"]
    strings = {
        "your_number": _("Your number"), "position": _("Position in queue"),
        "eta": _("Estimated wait"), "minutes": _("min"), "ahead": _("people ahead"),
        "no_wait": _("No waiting"), "slot": _("Booked slot"),
        "countdown": _("Back to the start in {seconds} seconds"),
        "again": _("You checked in already; here is your ticket again."),
        "late": _("You arrived after your slot, so you are queued with walk-ins."),
        "offline": _("The station server cannot be reached. Please ask the staff at the desk."),
        "no_token": _("This kiosk is not paired yet. Open it with #token=… from the admin."),
        "scan_again": _("Please try again, or ask the staff at the desk."),
        "keep": _("Please keep your ticket and watch the screen."),
        "screened": _("Thank you. Please wait to be called to the screening desk."),
        "to_vaccination": _("Thank you. No screening needed: please wait to be called for "
                            "your vaccination."),
        "see_doctor": _("Thank you. A doctor will talk with you at the screening desk."),
        "ask_desk": _("The nurse at the screening desk will ask you the questions."),
    }
    english = str(get_locale()) == "en"
    names = {code: s.name_en if english else s.name for code, s in ext.settings.services.items()}
    return render_template("kiosk.html", settings=ext.settings, strings=strings, names=names)
