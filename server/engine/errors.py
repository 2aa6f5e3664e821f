"""Queue engine (layer 1): the one domain error, with a stable code; texts live in the web layer."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command the rules refuse. `code` is a stable id (`"queue_empty"`); `params` fill the
    message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return f"{self.code} {self.params}" if self.params else self.code
