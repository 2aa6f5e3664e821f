"""The platform's declared request models: what they accept and how they refuse."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from central.errors import CentralError
from central.inputs import BookingRequest, DayQuery, FeedQuery, KeyRotation, parse

GOOD: dict[str, Any] = {"station": "demo-station", "service": " V", "day": "2026-11-27",
                        "slot": "09:00", "resident": {"name": "张小三", "phone": "13800008000"},
                        "vaccine": {"product": "Flu4"}}


def refused(model: Any, data: Any) -> tuple[str, str]:
    with pytest.raises(CentralError) as caught:
        parse(model, data)
    return caught.value.code, caught.value.message


def test_a_good_request_becomes_a_new_booking() -> None:
    new = parse(BookingRequest, GOOD).new_booking()
    assert (new.station, new.service, new.day, new.slot_start, new.slot_end) == (
        "demo-station", "V", date(2026, 11, 27), 540, 570)
    assert (new.vaccine_product, new.vaccine_dose, new.priority) == ("Flu4", 1, None)
    slot = parse(BookingRequest, {**GOOD, "slot": {"start": "23:30", "end": "00:00"}})
    assert slot.slot == (1410, 1440)


def test_priority_is_the_residents_or_the_requests() -> None:
    resident = {**GOOD["resident"], "priority": False}
    assert parse(BookingRequest, {**GOOD, "priority": True}).new_booking().priority is True
    assert parse(BookingRequest, {**GOOD, "priority": True, "resident": resident}) \
        .new_booking().priority is False


@pytest.mark.parametrize("change, code, message", [
    ({"station": ""}, "field_missing", "The field 'station' is required."),
    ({"day": "tomorrow"}, "field_invalid", "The field 'day' is not valid: use YYYY-MM-DD."),
    ({"slot": "10:00-09:00"}, "field_invalid",
     "The field 'slot' is not valid: the end must follow the start."),
    ({"slot": 900}, "field_invalid", "The field 'slot' is not valid: use HH:MM or HH:MM-HH:MM."),
    ({"service": "VVV"}, "field_invalid",
     "The field 'service' is not valid: a text of 1 to 2 characters."),
    ({"resident": "me"}, "field_missing", "The field 'resident' is required."),
    ({"resident": {"name": "王五", "phone": "call me"}}, "field_invalid",
     "The field 'resident.phone' is not valid: digits only."),
    ({"resident": {"name": "王五", "phone": "13800000000", "priority": "yes"}},
     "field_invalid", "The field 'priority' is not valid: true or false."),
    ({"vaccine": "Flu4"}, "field_invalid", "The field 'vaccine' is not valid: an object."),
    ({"vaccine": {"product": "Flu4", "dose": 0}}, "field_invalid",
     "The field 'vaccine.dose' is not valid: a number 1-10."),
])
def test_refusals_name_the_field_and_why(change: dict[str, Any], code: str,
                                         message: str) -> None:
    assert refused(BookingRequest, {**GOOD, **change}) == (code, message)


def test_a_body_that_is_no_object_is_body_invalid() -> None:
    assert refused(BookingRequest, [GOOD])[0] == "body_invalid"
    assert refused(KeyRotation, None)[0] == "body_invalid"


def test_queries() -> None:
    assert parse(FeedQuery, {}).model_dump() == {"cursor": 0, "limit": 100}
    assert parse(FeedQuery, {"cursor": "12", "limit": "500"}).model_dump() == {
        "cursor": 12, "limit": 500}
    assert refused(FeedQuery, {"cursor": "x" * 50}) == (
        "bad_cursor", f"The cursor '{'x' * 40}' is not valid.")
    assert parse(DayQuery, {"day": ""}).day is None
    assert refused(DayQuery, {"day": "27.11."})[0] == "field_invalid"
    assert refused(KeyRotation, {"kid": 7}) == ("field_missing", "The field 'kid' is required.")
