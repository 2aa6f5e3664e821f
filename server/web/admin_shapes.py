"""Web (layer 4): the JSON shapes the admin API answers (staff accounts, the ledger of
changes), declared for the OpenAPI document like those of `shapes`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class StaffMember(BaseModel):
    username: str
    display_name: str
    role: Literal["nurse", "doctor", "admin"]
    created_at: str
    disabled: bool


class StaffList(BaseModel):
    """Every staff account, by role then username; never a password or its hash."""

    staff: list[StaffMember]


class StaffChanged(BaseModel):
    user: StaffMember
    dropped: int | None = Field(None, description="disable: the live connections closed")


class Change(BaseModel):
    seq: int
    at: str = Field(json_schema_extra={"format": "date-time"})
    user: str = Field(description="who made it: a staff username")
    action: str = Field(description="e.g. staff.added, staff.password_reset, staff.disabled, "
                                    "staff.enabled, notice.posted, notice.removed, "
                                    "device.paired, device.renamed, device.revoked")
    subject: str = Field(description="what it was made to: a username, notice or device id")
    detail: dict[str, object] = Field(description="what the page needs to say it in words; "
                                                  "never a secret")


class Changes(BaseModel):
    """The administrators' ledger, newest first."""

    changes: list[Change]
    next_before: int | None = Field(description="ask `before` this for older rows; null: "
                                                "none")
