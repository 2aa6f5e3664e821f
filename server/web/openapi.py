"""Web (layer 4): the OpenAPI document, generated from the app's routes and what their views
declare (docstring, request models, answers, permission); never edited by hand.

    python -m server.web.openapi --write    rewrite server/web/openapi.json (committed)
    python -m server.web.openapi --check    fail if the committed file is out of date
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from werkzeug.routing import Rule

from ..auth import PERMISSIONS
from .declare import view_doc
from .security import COOKIE
from .shapes import Error

FILE = Path(__file__).with_name("openapi.json")
COMMAND = "python -m server.web.openapi --write"
REF = "#/components/schemas/{model}"
INFO = {
    "title": "clinicq station API",
    "version": "1.0.0",
    "description": "The station server's public API v1 (DESIGN.md, \"Public API\"). Errors are "
                   "{\"error\": {\"code\", \"message\", \"message_zh\"}} with a 4xx status; a "
                   "5xx is a bug. Staff log in and send X-CSRF-Token on unsafe requests; "
                   "devices send Authorization: Bearer <token>.",
}
SECURITY_SCHEMES = {
    "staffSession": {"type": "apiKey", "in": "cookie", "name": COOKIE},
    "deviceToken": {"type": "http", "scheme": "bearer"},
}
# how each role of server.auth proves who it is: staff log in, devices carry their token
SCHEME_OF_ROLE = {"nurse": "staffSession", "doctor": "staffSession", "admin": "staffSession",
                  "kiosk": "deviceToken", "display": "deviceToken"}
# any operation may be refused; the codes and their statuses are in server/web/errors.py
ERROR_STATUSES = ("400", "401", "403", "404", "409", "413", "422")
_PATH_PART = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


class _Schemas(GenerateJsonSchema):
    """Pydantic's schemas without a `title` on every field (the name says it already)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def documented(rule: Rule) -> bool:
    return rule.rule.startswith(("/api/", "/t/")) or rule.rule == "/healthz"


def _texts(view: Callable[..., Any]) -> tuple[str, str]:
    """Summary (the docstring's first paragraph) and description (the rest)."""
    doc = inspect.cleandoc(view.__doc__ or "")
    if not doc:
        raise ValueError(f"view {view.__name__} has no docstring: it is the API's summary")
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    return paragraphs[0], "\n\n".join(paragraphs[1:])


def _security(view: Callable[..., Any]) -> list[dict[str, list[str]]]:
    permission = getattr(view, "permission", None)  # set by security.requires
    if permission is None:
        return []
    schemes = {SCHEME_OF_ROLE[role] for role in PERMISSIONS[permission]}
    return [{name: []} for name in SECURITY_SCHEMES if name in schemes]


def _query(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(schema_generator=_Schemas)
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        entry: dict[str, Any] = {"name": name, "in": "query",
                                 "required": name in schema.get("required", ())}
        if "description" in prop:
            entry["description"] = prop.pop("description")
        entry["schema"] = prop
        out.append(entry)
    return out


def _parameters(rule: Rule, doc: dict[str, Any]) -> list[dict[str, Any]]:
    declared: dict[tuple[str, str], dict[str, Any]] = dict(doc.get("parameters", {}))
    out = []
    for converter, name in _PATH_PART.findall(rule.rule):
        kind = "integer" if converter == "int" else "string"
        if ("path", name) in declared:
            out.append(declared.pop(("path", name)))
        else:
            out.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
    out.extend(declared.values())
    if "query" in doc:
        out.extend(_query(doc["query"]))
    return out


def _models(app: Flask) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    """Every model the documented views declare: bodies as read, answers as written."""
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Error, "serialization"): None}
    for rule in app.url_map.iter_rules():
        if not documented(rule):
            continue
        doc = view_doc(app.view_functions[rule.endpoint])
        if "body" in doc:
            found[(doc["body"][0], "validation")] = None
        for _description, model in doc.get("responses", {}).values():
            if model is not None:
                found[(model, "serialization")] = None
    return list(found)


def _operation(view: Callable[..., Any], rule: Rule, refs: Mapping[Any, Any]) -> dict[str, Any]:
    doc = view_doc(view)
    summary, description = _texts(view)
    op: dict[str, Any] = {"summary": summary}
    if description:
        op["description"] = description
    parameters = _parameters(rule, doc)
    if parameters:
        op["parameters"] = parameters
    if "body" in doc:
        model, required = doc["body"]
        op["requestBody"] = {"required": required, "content": {
            "application/json": {"schema": refs[(model, "validation")]}}}
    responses: dict[str, Any] = {}
    # decorators apply from the bottom up: reversed, the answers read as the source lists them
    for status, (text, model) in reversed(list(doc.get("responses", {}).items())):
        responses[str(status)] = {"description": text}
        if model is not None:
            responses[str(status)]["content"] = {
                "application/json": {"schema": refs[(model, "serialization")]}}
    for status in ERROR_STATUSES:
        responses.setdefault(status, {"$ref": "#/components/responses/Error"})
    op["responses"] = responses
    op["security"] = _security(view)
    return op


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`'s /api/, /t/ and /healthz routes."""
    refs, top = models_json_schema(_models(app), ref_template=REF, schema_generator=_Schemas)
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if not documented(rule):
            continue
        view = app.view_functions[rule.endpoint]
        path = _PATH_PART.sub(r"{\2}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(view, rule, refs)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "paths": paths,
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "responses": {"Error": {
                "description": "refused, with a stable code and a message in English and "
                               "Chinese",
                "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
            }},
            "schemas": dict(sorted(top.get("$defs", {}).items())),
        },
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def station_document() -> str:
    """The document of a station app built from the default configuration (the routes and
    their declarations do not depend on it)."""
    from .. import config
    from . import create_app

    return render(build(create_app(config.load(database=":memory:"), testing=True)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m server.web.openapi",
        description="Generate the station API's OpenAPI document from its routes and models; "
                    "without an option, print it.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"rewrite {FILE.name} in place")
    group.add_argument("--check", action="store_true",
                       help=f"exit 1 if the committed {FILE.name} is out of date")
    args = parser.parse_args(argv)
    text = station_document()
    if args.write:
        FILE.write_text(text, encoding="utf-8")
    elif args.check:
        if FILE.read_text(encoding="utf-8") != text:
            print(f"{FILE} is out of date; run: {COMMAND}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
