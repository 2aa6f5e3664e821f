"""Waiting-room display (served by the station server): the 1920×1080 page a TV shows."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display-static")


@bp.get("/display")
def screen() -> str:
    ext = current_app.extensions["clinicq"]
    english = str(get_locale()) == "en"
    settings = ext.settings
    strings = {
        "now_calling": _("Now calling"), "next": _("Next"), "waiting": _("waiting"),
        "wait": _("about %(n)s min", n="{n}"), "recent": _("Recent calls"),
        "please_go": _("please go to"), "offline": _("Reconnecting to the station…"),
        "no_token": _("This display is not paired yet. Open it with #token=… from the admin."),
        "idle": _("—"),
        "minutes_left": _("%(n)s min left", n="{n}"), "may_leave": _("may leave"),
        "more": _("and %(n)s more", n="{n}"), "released": _("observation over, you may leave"),
    }
    return render_template(
        "display.html", settings=settings, strings=strings,
        services={c: s.name_en if english else s.name for c, s in settings.services.items()},
        counters={c: i.name_en if english else i.name for c, i in settings.counters.items()},
    )
