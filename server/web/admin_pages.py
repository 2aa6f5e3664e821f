"""Web (layer 4): the station administrator's pages under /admin (role admin). The pages are
thin: they carry their words; the data comes from the API they call."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _

from .security import csrf_token, current_principal

bp = Blueprint("admin", __name__)


def _page(template: str, strings: dict[str, str], **context: Any) -> tuple[str, int]:
    ext = current_app.extensions["clinicq"]
    who = current_principal()
    admin = who if who is not None and who.kind == "staff" and who.role == "admin" else None
    status = 200 if admin else (403 if who is not None else 401)
    return render_template(template, settings=ext.settings, user=admin, signed_in=who,
                           csrf_token=csrf_token() if admin else None, strings=strings,
                           **context), status


@bp.get("/admin")
@bp.get("/admin/devices")
def devices() -> tuple[str, int]:
    return _page("admin/devices.html", {
        "online": _("online"), "offline": _("offline"), "revoked": _("revoked"),
        "never": _("never"), "scanner": _("scanner"), "printer": _("printer"),
        "last_scan": _("last scan"), "sound": _("sound"), "on": _("on"), "off": _("off"),
        "last_seen": _("last report"), "rename": _("Rename"), "revoke": _("Revoke"),
        "confirm_revoke": _("Revoke %(name)s? It stops working at once and must be paired "
                            "again.", name="{name}"),
        "new_name": _("New name for %(name)s", name="{name}"), "paired": _("paired: %(name)s "
                      "starts by itself within a few seconds", name="{name}"),
        "kiosk": _("Kiosk"), "display": _("Display"), "ago_s": _("%(n)s s ago", n="{n}"),
        "ago_m": _("%(n)s min ago", n="{n}"), "held": _("scans waiting to send"),
        "ok": _("ok"), "lost": _("disconnected"), "ready": _("ready"),
        "paper_near_end": _("paper low"), "paper_out": _("paper out"),
        "cover_open": _("cover open"), "unknown": _("unknown"), "connecting": _("connecting"),
        "platform": _("Platform"), "in_step": _("in step"), "link_down": _("link down"),
        "not_configured": _("not set up"), "pending": _("waiting to send"),
        "last_pull": _("last pull"), "last_push": _("last sent"),
        "revoked_done": _("%(name)s revoked", name="{name}"),
    })
