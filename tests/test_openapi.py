"""The OpenAPI file is the contract: it and the registered API routes must match exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask

SPEC = json.loads((Path(__file__).resolve().parent.parent / "server/web/openapi.json")
                  .read_text(encoding="utf-8"))


def registered(app: Flask) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((method.lower(), path))
    return out


def documented() -> set[tuple[str, str]]:
    return {(method, path) for path, ops in SPEC["paths"].items() for method in ops}


def test_every_route_is_documented_and_every_documented_route_exists(app: Flask) -> None:
    assert registered(app) - documented() == set(), "routes missing from openapi.json"
    assert documented() - registered(app) == set(), "openapi.json names routes that do not exist"


def test_every_operation_documents_its_errors_and_security() -> None:
    for path, ops in SPEC["paths"].items():
        for method, op in ops.items():
            assert "security" in op, (method, path)
            assert op["summary"], (method, path)
            if op["security"]:
                assert "401" in op["responses"] and "403" in op["responses"], (method, path)


def test_ticket_schema_has_the_designed_fields() -> None:
    required = set(SPEC["components"]["schemas"]["Ticket"]["required"])
    assert required == {"id", "number", "service", "status", "position", "eta_minutes",
                        "counter", "booking_id", "issued_at", "called_at"}


def test_served_ticket_matches_the_schema(app: Flask) -> None:
    client = app.test_client()
    r = client.post("/api/v1/tickets", json={"service": "V"},
                    headers={"Authorization": "Bearer demo-kiosk-token"})
    schema = SPEC["components"]["schemas"]["Ticket"]
    ticket = r.get_json()
    assert set(ticket) == set(schema["properties"])
    kinds = {"string": str, "integer": int, "boolean": bool, "null": type(None)}
    for name, prop in schema["properties"].items():
        allowed = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        assert isinstance(ticket[name], tuple(kinds[k] for k in allowed)), name
