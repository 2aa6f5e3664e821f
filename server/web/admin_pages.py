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
        "failed": _("That did not work. Please try again."),
        "updated": _("updated %(time)s", time="{time}"),
    })


@bp.get("/admin/services")
def services() -> tuple[str, int]:
    return _page("admin/services.html", {
        "edit": _("Edit"), "remove": _("Remove"), "edit_named": _("Edit %(name)s", name="{name}"),
        "remove_named": _("Remove %(name)s", name="{name}"),
        "confirm_remove": _("Remove %(name)s? Kiosks, consoles and displays drop it at once.",
                            name="{name}"),
        "removed": _("%(name)s removed", name="{name}"),
        "saved": _("%(name)s saved: every kiosk, console and display uses it now",
                   name="{name}"),
        "new_service": _("New service"), "new_counter": _("New counter"),
        "required": _("Required."), "all_day": _("all day"),
        "per_day": _("at most %(n)s a day", n="{n}"), "booked_only": _("booked only"),
        "windows": _("check-in %(early)s min early, %(grace)s min grace", early="{early}",
                     grace="{grace}"),
        "one_stage": _("one stage"), "stage_screening": _("Screening"),
        "stage_vaccination": _("Vaccination"), "stage_observation": _("Observation"),
    })


def _staff_strings() -> dict[str, str]:
    name = "{name}"
    return {
        "role_nurse": _("Nurse"), "role_doctor": _("Doctor"), "role_admin": _("Administrator"),
        "said_nurse": _("nurse"), "said_doctor": _("doctor"), "said_admin": _("administrator"),
        "active": _("in use"), "disabled": _("Account disabled"),
        "reset": _("Reset password"), "disable": _("Disable"), "enable": _("Enable"),
        "reset_title": _("New password for %(name)s", name=name),
        "confirm_disable": _("Disable %(name)s? They are logged out at once and cannot log "
                             "in until enabled again.", name=name),
        "confirm_enable": _("Enable %(name)s again? They can log in with their password.",
                            name=name),
        "added": _("Added %(role)s %(name)s. They can log in now.", role="{role}", name=name),
        "password_set": _("The password of %(name)s is changed. Tell them the new one in "
                          "person.", name=name),
        "disabled_done": _("%(name)s is disabled", name=name),
        "enabled_done": _("%(name)s is enabled", name=name),
        "bad_username": _("2 to 32 characters: small letters a-z, digits, dot, dash or "
                          "underscore; no spaces"),
        "need_name": _("Please write the full name"),
        "short_password": _("At least 8 characters"),
        "failed": _("That did not work. Please try again."),
    }


@bp.get("/admin/staff")
def staff() -> tuple[str, int]:
    strings = _staff_strings()
    strings.update({"field_username": strings["bad_username"],
                    "field_display_name": strings["need_name"],
                    "field_password": strings["short_password"]})
    return _page("admin/staff.html", strings)


@bp.get("/admin/notices")
def notices() -> tuple[str, int]:
    text = "{text}"
    return _page("admin/notices.html", {
        "remove": _("Remove"), "until_removed": _("until removed"),
        "confirm_remove": _("Remove the notice “%(text)s”? Screens stop showing it at once.",
                            text=text),
        "posted": _("Posted: “%(text)s” is shown on the display and the kiosk now.", text=text),
        "removed": _("Removed: “%(text)s”", text=text),
        "need_text": _("Please write the notice in Chinese"),
        "bad_minutes": _("A whole number of minutes from 1 to 44640 (31 days), or empty"),
        "field_text": _("Please write the notice in Chinese"),
        "field_minutes": _("A whole number of minutes from 1 to 44640 (31 days), or empty"),
        "failed": _("That did not work. Please try again."),
    })


@bp.get("/admin/changes")
def changes() -> tuple[str, int]:
    f = {k: "{" + k + "}" for k in ("user", "role", "name", "username", "text", "was", "kind",
                                    "until", "settings")}
    return _page("admin/changes.html", {
        "role_nurse": _("nurse"), "role_doctor": _("doctor"), "role_admin": _("administrator"),
        "kind_kiosk": _("kiosk"), "kind_display": _("display"),
        "until_removed": _("until removed"),
        "did_staff_added": _("%(user)s added %(role)s %(name)s (%(username)s)", **f),
        "did_staff_password_reset": _("%(user)s reset the password of %(name)s "
                                      "(%(username)s)", **f),
        "did_staff_disabled": _("%(user)s disabled %(name)s (%(username)s)", **f),
        "did_staff_enabled": _("%(user)s enabled %(name)s (%(username)s)", **f),
        "until_time": _("until %(time)s", time="{time}"),
        "did_notice_posted": _("%(user)s posted the notice “%(text)s” (%(until)s)", **f),
        "did_notice_removed": _("%(user)s removed the notice “%(text)s”", **f),
        "did_device_paired": _("%(user)s paired the %(kind)s %(name)s", **f),
        "did_device_renamed": _("%(user)s renamed the %(kind)s %(was)s to %(name)s", **f),
        "did_device_revoked": _("%(user)s revoked the %(kind)s %(name)s", **f),
        "did_service_added": _("%(user)s added the service %(name)s", **f),
        "did_service_changed": _("%(user)s changed the service %(name)s: %(settings)s", **f),
        "did_service_removed": _("%(user)s removed the service %(name)s", **f),
        "did_counter_added": _("%(user)s added the counter %(name)s", **f),
        "did_counter_changed": _("%(user)s changed the counter %(name)s: %(settings)s", **f),
        "did_counter_removed": _("%(user)s removed the counter %(name)s", **f),
        "failed": _("That did not work. Please try again."),
    })
