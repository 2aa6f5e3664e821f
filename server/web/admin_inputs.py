"""Web (layer 4): the declared models of the admin API's bodies and query strings (staff
accounts, the ledger of changes); parsed by `inputs.takes` like every other input."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from ..staff import NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN
from .inputs import Input

Password = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


def _trimmed(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


class StaffAdd(Input):
    """A new staff account; the username is how they log in and cannot change."""

    username: Annotated[str, Field(pattern=USERNAME_PATTERN)] = Field(
        description="2-32 of a-z, 0-9, dot, dash, underscore, e.g. wangfang")
    display_name: Annotated[str, BeforeValidator(_trimmed),
                            Field(min_length=1, max_length=NAME_MAX)] = Field(
        description="the full name, as the console and the ledger show it, e.g. 王芳")
    role: Literal["nurse", "doctor", "admin"]
    password: Password = Field(description=f"at least {PASSWORD_MIN} characters; never "
                                           "stored or logged in plain")


class PasswordReset(Input):
    password: Password = Field(description=f"the new password, at least {PASSWORD_MIN} "
                                           "characters")


class ChangesQuery(Input):
    model_config = ConfigDict(strict=False)  # a query string's numbers come as text

    limit: Annotated[int, Field(ge=1, le=200)] = Field(50, description="rows per page")
    before: Annotated[int, Field(ge=1)] | None = Field(
        None, description="the `next_before` of the previous page: rows older than it")
