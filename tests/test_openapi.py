"""The OpenAPI file is generated from the routes and their declared models: the committed file
must be what the generator writes, and served answers must match its schemas."""

from __future__ import annotations

import json
import re
from dataclasses import fields

import pytest
from flask import Flask

from contracts.protocol import TicketView
from server.web import openapi
from server.web.shapes import Ticket

SPEC = json.loads(openapi.FILE.read_text(encoding="utf-8"))


def registered(app: Flask) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not openapi.documented(rule):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((method.lower(), path))
    return out


def documented() -> set[tuple[str, str]]:
    return {(method, path) for path, ops in SPEC["paths"].items() for method in ops}


def test_the_committed_file_is_the_generated_one(app: Flask) -> None:
    generated = openapi.render(openapi.build(app))
    assert generated == openapi.FILE.read_text(encoding="utf-8"), (
        f"server/web/openapi.json is out of date; run: {openapi.COMMAND}")


def test_every_route_is_documented_and_every_documented_route_exists(app: Flask) -> None:
    assert registered(app) == documented()
    assert ("get", "/healthz") in documented() and ("post", "/api/v1/checkins") in documented()


def test_every_operation_documents_its_errors_and_security() -> None:
    for path, ops in SPEC["paths"].items():
        for method, op in ops.items():
            assert "security" in op, (method, path)
            assert op["summary"], (method, path)
            if op["security"]:
                assert "401" in op["responses"] and "403" in op["responses"], (method, path)


def test_security_follows_the_permissions() -> None:
    ops = SPEC["paths"]
    assert ops["/api/v1/login"]["post"]["security"] == []
    assert ops["/api/v1/checkins"]["post"]["security"] == [{"staffSession": []},
                                                           {"deviceToken": []}]
    assert ops["/api/v1/counters/{counter}/call-next"]["post"]["security"] == [
        {"staffSession": []}]
    assert ops["/api/v1/devices/health"]["post"]["security"] == [{"deviceToken": []}]


def test_request_bodies_come_from_the_models() -> None:
    walk_in = SPEC["paths"]["/api/v1/tickets"]["post"]["requestBody"]
    assert walk_in == {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/WalkIn"}}}}
    schema = SPEC["components"]["schemas"]["WalkIn"]
    assert schema["required"] == ["service"] and set(schema["properties"]) == {"service",
                                                                              "priority"}
    action = SPEC["paths"]["/api/v1/tickets/{ticket_id}/{action}"]["post"]
    assert action["requestBody"]["required"] is False
    assert [p["name"] for p in action["parameters"]] == ["ticket_id", "action"]


def test_ticket_schema_has_the_designed_fields() -> None:
    required = set(SPEC["components"]["schemas"]["Ticket"]["required"])
    assert required == {"id", "number", "service", "status", "position", "eta_minutes",
                        "counter", "booking_id", "issued_at", "called_at"}
    # the response model describes the protocol's TicketView, field for field
    assert list(Ticket.model_fields) == [f.name for f in fields(TicketView)]


def test_served_ticket_matches_the_schema(app: Flask) -> None:
    client = app.test_client()
    r = client.post("/api/v1/tickets", json={"service": "V"},
                    headers={"Authorization": "Bearer demo-kiosk-token"})
    ticket = r.get_json()
    assert set(ticket) == set(SPEC["components"]["schemas"]["Ticket"]["properties"])
    Ticket.model_validate(ticket, strict=True)


def test_the_command_checks_the_committed_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert openapi.main(["--check"]) == 0
    with pytest.raises(SystemExit):
        openapi.main(["--help"])
    assert "--write" in capsys.readouterr().out
