"""Request and answer shapes for sources; the URL goes in and never comes out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.names import Name, Text


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    url: Annotated[str, StringConstraints(min_length=3, max_length=2000)] = Field(
        description="write-only: e.g. duckdb:///srv/data/sales.duckdb (under a data directory), postgresql://user:pass@host/db"
    )
    description: Text = ""


class SourceOut(BaseModel):
    """Where the numbers live; the URL is shown redacted."""

    name: str
    kind: str
    url: str = Field(description="redacted: credentials replaced by ***")
    description: str
    created_by: str
    created_at: dt.datetime
