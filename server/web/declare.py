"""Web (layer 4): what a view declares about itself for the OpenAPI document — its answers and
extra parameters; the request models themselves are attached by `inputs.takes`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])


def view_doc(view: Callable[..., Any]) -> dict[str, Any]:
    """The declarations attached to `view`. `functools.wraps` copies a function's `__dict__`
    into its wrapper, so the view registered on the app (the outermost wrapper, e.g. of
    `requires`) carries what the decorators below it attached."""
    doc: dict[str, Any] = view.__dict__.setdefault("openapi", {})
    return doc


def answers(status: int, description: str,
            model: type[BaseModel] | None = None) -> Callable[[F], F]:
    """Document one successful answer of the view: its status, what it means, and its JSON
    shape (a response model of `server.web.answers`), if it has one worth naming."""

    def decorate(view: F) -> F:
        view_doc(view).setdefault("responses", {})[status] = (description, model)
        return view

    return decorate


def parameter(name: str, where: str = "path", description: str = "", *,
              required: bool | None = None, **schema: Any) -> Callable[[F], F]:
    """Document a parameter the route itself cannot tell: a header the view reads, or the
    values a path part may take (`enum=[...]`)."""

    def decorate(view: F) -> F:
        entry: dict[str, Any] = {"name": name, "in": where}
        if required is not None or where == "path":
            entry["required"] = True if where == "path" else bool(required)
        if description:
            entry["description"] = description
        entry["schema"] = {"type": "string", **schema}
        view_doc(view).setdefault("parameters", {})[(where, name)] = entry
        return view

    return decorate
