"""Web (layer 4): the reports pages under /admin (role admin) — the charts page, whose figures
come from `GET /api/v1/reports/summary`, and a day's summary rendered for printing."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _

from .admin_pages import _page
from .security import current_principal

bp = Blueprint("reports_pages", __name__)


def labels() -> dict[str, dict[str, str]]:
    """What the station calls its services, stages and counters, in the page's language."""
    settings = current_app.extensions["clinicq"].settings
    en = str(get_locale()) == "en"
    return {
        "services": {c: (s.name_en if en else s.name) for c, s in settings.services.items()},
        "counters": {c: (k.name_en if en else k.name) for c, k in settings.counters.items()},
        "stages": {"screening": _("Screening"), "vaccination": _("Vaccination"),
                   "observation": _("Observation")},
    }


def _today() -> date:
    return current_app.extensions["clinicq"].station.today()  # type: ignore[no-any-return]


@bp.get("/admin/reports")
def reports() -> tuple[str, int]:
    return _page("admin/reports.html", {
        "arrivals": _("Arrivals"), "booked": _("Booked"), "walkin": _("Walk-in"),
        "late": _("Late"), "no_show": _("No-shows"), "cancelled": _("Cancelled"),
        "median": _("Median"), "p90": _("90th percentile"), "mean": _("Mean"),
        "bias": _("Mean error (+: longer than told)"), "n": _("Count"),
        "day": _("Day"), "hour": _("Hour"), "service": _("Service"), "stage": _("Stage"),
        "counter": _("Counter"), "served": _("Served"), "product": _("Vaccine"),
        "dose": _("Dose"), "doses": _("Doses"), "minutes": _("minutes"),
        "wait_median": _("Median wait"), "wait_p90": _("90th percentile wait"),
        "error_median": _("Median estimate error"), "error_p90": _("90th percentile error"),
        "none": _("No data in this range."), "failed": _("The report could not be loaded."),
        "dose_n": _("dose %(n)s", n="{n}"), "all_stages": _("all"),
        "loading": _("Loading…"), "shown": _("Showing %(from)s to %(to)s", **{
            "from": "{from}", "to": "{to}"}),
    }, today=_today().isoformat(), labels=labels())


@bp.get("/admin/reports/print")
def print_day() -> tuple[str, int]:
    """One day's summary as a page to print (no script, no chart: tables that fit A4)."""
    raw = request.args.get("day") or _today().isoformat()
    try:
        day = date.fromisoformat(raw)
        bad = None
    except ValueError:
        day, bad = _today(), raw
    report: dict[str, Any] | None = None
    who = current_principal()
    if who is not None and who.can("reports") and bad is None:
        report = current_app.extensions["clinicq"].store.report(day, day)
    page, status = _page("admin/reports_print.html", {}, day=day.isoformat(), bad=bad,
                         report=report, labels=labels())
    return page, 400 if bad is not None and status == 200 else status
