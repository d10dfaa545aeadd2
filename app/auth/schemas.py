"""Request and answer shapes for domains, principals and keys."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.names import Label, Name, Text

Role = Literal["reader", "editor", "approver", "auditor", "admin"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DomainIn(Strict):
    name: Name
    description: Text = ""


class DomainOut(BaseModel):
    """A department or business area that owns definitions."""

    name: str
    description: str
    created_at: dt.datetime


class RoleGrantIn(Strict):
    role: Role
    domain: Name | None = Field(default=None, description="omit for a global role (auditor, admin, reader)")

    @model_validator(mode="after")
    def _scope(self) -> RoleGrantIn:
        if self.role in ("auditor", "admin") and self.domain is not None:
            raise ValueError(f"'{self.role}' is a global role and takes no domain")
        if self.role in ("editor", "approver") and self.domain is None:
            raise ValueError(f"'{self.role}' needs a domain")
        return self


class RoleGrantOut(BaseModel):
    role: str
    domain: str | None


class RolesIn(Strict):
    roles: list[RoleGrantIn] = Field(max_length=200)


class PrincipalIn(Strict):
    name: Name
    display_name: Label | None = None
    kind: Literal["person", "system"] = "person"
    roles: list[RoleGrantIn] = Field(default_factory=list, max_length=200)


class KeyOut(BaseModel):
    id: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class PrincipalRef(BaseModel):
    """A registered principal, as a metric's owner names it."""

    name: str
    display_name: str
    kind: str


class PrincipalOut(PrincipalRef):
    """A person or system with API keys and roles (admin only)."""

    roles: list[RoleGrantOut]
    keys: list[KeyOut]


class KeyIn(Strict):
    label: Label | None = None


class KeyCreated(BaseModel):
    id: str
    api_key: str | None = Field(default=None, description="shown once, in the first answer; only its hash is stored, so an Idempotency-Key replay answers without it")


class PrincipalCreated(PrincipalOut):
    api_key: str | None = Field(default=None, description="shown once, in the first answer; only its hash is stored, so an Idempotency-Key replay answers without it")
