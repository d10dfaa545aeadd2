"""Answer shapes of the catalog: a versioned entity with its definition, versions and diffs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class EntityOut(BaseModel):
    kind: str
    key: str
    domain: str
    status: str
    version: int = Field(description="the version answered")
    latest_version: int
    author: str
    change_note: str
    created_at: dt.datetime = Field(description="when this version was accepted")
    content_hash: str
    definition: dict[str, Any]


class VersionOut(BaseModel):
    version: int
    author: str
    change_note: str
    created_at: dt.datetime
    content_hash: str


class Change(BaseModel):
    path: str = Field(description="JSON pointer of the changed field")
    op: str = Field(description="add | remove | replace")
    before: Any = None
    after: Any = None
    summary: str


class DiffOut(BaseModel):
    key: str
    from_version: int
    to_version: int
    changes: list[Change]


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None
