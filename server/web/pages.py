"""Web (layer 4): the index and the nurse console pages (the kiosk and display pages live in
kiosk/ and display/)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import get_locale

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
        "reprint": _("Reprint"), "restore": _("Restore"),
        "restored": _("back in the queue with the same number"),
        "recall_no_show": _("called the last time allowed: marked no-show"),
        "undone": _("Undone"), "nothing_to_undo": _("Nothing to undo"),
        "walkin_issued": _("walk-in ticket issued"), "no_no_shows": _("No missed numbers"),
        "session_expired": _("Your session has ended. Please log in again."),
        "log_in_again": _("Log in again"),
        "paused": _("On break · Call next resumes"), "resumed": _("back from the break"),
    }


def vaccination_strings() -> dict[str, object]:
    """The console's vaccination panel: its words, and the sites, routes, checks and symptoms
    it offers (ids the API records, labels for the request's language)."""
    from flask_babel import gettext as _

    return {
        "screening": _("Screening"), "vaccination": _("Vaccination"),
        "observation": _("Observation"), "yes": _("Yes"), "no": _("No"),
        "save_answers": _("Save the answers"), "screened": _("Answers saved: no concerns"),
        "flagged": _("Answers saved: a doctor must see this resident first"),
        "needs_doctor": _("Needs a doctor: answered yes to"), "reason": _("Reason"),
        "clear": _("Clear for vaccination"), "defer": _("Defer the vaccination"),
        "cleared_default": _("seen by the doctor"),
        "reason_needed": _("Please give the reason for the deferral."),
        "no_vaccine_booked": _("No vaccine booked"), "dose": _("dose %(n)s", n="{n}"),
        "age": _("%(n)s years old", n="{n}"), "age_unknown": _("age not in the booking"),
        "scan_trace": _("Scan the trace code on the box"), "record": _("Record the dose"),
        "tick_all": _("Please tick every check first."),
        "recorded": _("dose recorded, observation started"), "site": _("Site"),
        "route": _("Route"), "reaction": _("Adverse reaction"),
        "leave_early": _("Left early"), "leave_reason": _("Why did the resident leave early?"),
        "may_leave": _("may leave"), "minutes_left": _("%(n)s min left", n="{n}"),
        "nobody_observing": _("Nobody is in observation"), "action_taken": _("Action taken"),
        "note": _("Note"), "save_reaction": _("Save the reaction"),
        "reaction_saved": _("reaction recorded, observation extended"),
        # ordered [id, label] pairs (a JSON object would reach the page sorted by id): the
        # checks in the order of 三查七对's 七对, the usual site and route first
        "checklist": [["name", _("name")], ["age", _("age")], ["vaccine", _("vaccine")],
                      ["specification", _("specification")], ["dose", _("dose")],
                      ["site", _("site")], ["route", _("route")]],
        "sites": [["left_deltoid", _("left upper arm")], ["right_deltoid", _("right upper arm")],
                  ["left_thigh", _("left thigh")], ["right_thigh", _("right thigh")],
                  ["oral", _("mouth")]],
        "routes": [["intramuscular", _("intramuscular")], ["subcutaneous", _("subcutaneous")],
                   ["intradermal", _("intradermal")], ["oral", _("oral")]],
        "symptoms": [["fever", _("fever")], ["rash", _("rash")], ["swelling", _("swelling")],
                     ["dizziness", _("dizziness")], ["nausea", _("nausea")],
                     ["breathing", _("difficulty breathing")], ["other", _("other")]],
        "severities": [["mild", _("mild")], ["moderate", _("moderate")],
                       ["severe", _("severe")]],
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
    english = str(get_locale()) == "en"
    # the station's own names of its services, in the console's language (never the codes)
    names = {code: (s.name_en or s.name) if english else s.name
             for code, s in ext.settings.services.items()}
    return render_template("console.html", settings=ext.settings, user=staff,
                           csrf_token=csrf_token() if staff else None, strings=ui_strings(),
                           vaccination=vaccination_strings(), service_names=names)
