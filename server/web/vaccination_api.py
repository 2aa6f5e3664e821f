"""Web (layer 4): the vaccination pathway's API — screening questions and answers, a doctor's
clearing or deferral, the vaccine catalog, the dose with its trace code, and observation.

Views parse and call the station service; every rule is the engine's
(server/engine/vaccination.py), every refusal a code of server/web/errors.py.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from contracts import i18n

from ..engine.vaccination import DoseScan
from .api import station, ticket_json
from .declare import answers
from .inputs import DoctorDecision, Reaction, ScreeningAnswers, Vaccinate, takes
from .security import current_principal, requires
from .shapes import ScreeningQuestions, Ticket, Vaccines

bp = Blueprint("vaccination_api", __name__)


def _who() -> str:
    who = current_principal()
    assert who is not None  # `requires` has checked
    return who.id


@bp.get("/api/v1/screening/questions")
@requires("ticket.read")
@answers(200, "the questions, in order", ScreeningQuestions)
def screening_questions() -> Response:
    """The pre-vaccination health questions, in Chinese and English"""
    settings = current_app.extensions["clinicq"].settings
    return jsonify({"questions": [
        {"id": q, "zh": i18n.text(f"screening.{q}", "zh"),
         "en": i18n.text(f"screening.{q}", "en")}
        for q in settings.screening_questions
    ]})


@bp.post("/api/v1/tickets/<ticket_id>/screening")
@requires("screening.answer")
@answers(200, "the ticket; `flagged` when an answer was yes", Ticket)
@takes(ScreeningAnswers)
def screening(ticket_id: str, body: ScreeningAnswers) -> tuple[Response, int]:
    """Record the health answers; a yes flags the ticket for a doctor

    Every question answered no sends a ticket waiting at screening on to the vaccination
    queue. Refusals: `screening_unknown_question` 422, `screening_closed` 409.
    """
    ticket = station().record_screening(ticket_id, body.answers, by=_who())
    return ticket_json(ticket.id)


@bp.post("/api/v1/tickets/<ticket_id>/clear")
@requires("screening.review")
@answers(200, "the ticket, cleared for vaccination", Ticket)
@takes(DoctorDecision)
def clear(ticket_id: str, body: DoctorDecision) -> tuple[Response, int]:
    """Doctor: clear a flagged ticket for vaccination (`not_flagged` 409)"""
    return ticket_json(station().clear(ticket_id, by=_who(), reason=body.reason).id)


@bp.post("/api/v1/tickets/<ticket_id>/defer")
@requires("screening.review")
@answers(200, "the ticket, now `deferred`", Ticket)
@takes(DoctorDecision)
def defer(ticket_id: str, body: DoctorDecision) -> tuple[Response, int]:
    """Doctor: defer the vaccination, with a reason; the ticket is closed"""
    return ticket_json(station().defer(ticket_id, by=_who(), reason=body.reason).id)


@bp.get("/api/v1/vaccines")
@requires("vaccines.read")
@answers(200, "the catalog", Vaccines)
def vaccines() -> Response:
    """The platform's vaccine catalog as the station knows it"""
    return jsonify({"vaccines": current_app.extensions["clinicq"].store.vaccines()})


@bp.post("/api/v1/tickets/<ticket_id>/vaccinate")
@requires("vaccinate")
@answers(200, "the dose is recorded: the ticket is `observing`, with `observation_ends_at`",
         Ticket)
@takes(Vaccinate)
def vaccinate(ticket_id: str, body: Vaccinate) -> tuple[Response, int]:
    """Record the dose given, by its scanned trace code; starts observation

    Checked in this order: `not_at_vaccination_stage` 409, `screening_not_cleared` 409,
    `trace_code_invalid` 422, `vaccine_unknown` 422, `vaccine_mismatch` 422,
    `trace_code_used` 409, `vaccine_expired` 422, `dose_too_soon` 422 (a doctor may give it
    anyway with `override_reason`; from anyone else `override_needs_doctor` 403). A refusal
    records nothing.
    """
    who = current_principal()
    assert who is not None
    scan = DoseScan(trace_code=body.trace_code, site=body.site, route=body.route, nurse=who.id,
                    by_doctor=who.role == "doctor", checklist=body.checklist,
                    override_reason=body.override_reason, dose=body.dose)
    return ticket_json(station().vaccinate(ticket_id, scan).id)


@bp.post("/api/v1/tickets/<ticket_id>/reaction")
@requires("vaccinate")
@answers(200, "the ticket, observation extended", Ticket)
@takes(Reaction)
def reaction(ticket_id: str, body: Reaction) -> tuple[Response, int]:
    """Record an adverse reaction during observation (`not_in_observation` 409); every
    console is alerted (Socket.IO `alert`)"""
    ticket = station().reaction(ticket_id, symptoms=body.symptoms, note=body.note,
                                severity=body.severity, action=body.action, by=_who())
    return ticket_json(ticket.id)


@bp.post("/api/v1/tickets/<ticket_id>/leave-early")
@requires("vaccinate")
@answers(200, "the ticket, `released`", Ticket)
@takes(DoctorDecision)
def leave_early(ticket_id: str, body: DoctorDecision) -> tuple[Response, int]:
    """Record that the resident left observation early, with the reason"""
    return ticket_json(station().leave_early(ticket_id, by=_who(), reason=body.reason).id)
