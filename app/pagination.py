"""Opaque cursors for `{"items": [...], "next_cursor": ...}` lists."""

from __future__ import annotations

import base64
import json
from typing import Any

from app.db import MAX_INTEGER
from app.errors import ErrorCode, Invalid


def encode_cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, expected: type) -> Any:
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        value = None
    if expected is int and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER):
        value = None  # a position is a registry id or sequence: 0 to 2^63 - 1
    if not isinstance(value, expected):
        raise Invalid("the cursor is not one this service issued", pointer="cursor", code=ErrorCode.INVALID_CURSOR)
    return value


def next_cursor(items: list, limit: int, position: Any) -> str | None:
    """A cursor after the last item when the page is full, else None."""
    return encode_cursor(position) if len(items) == limit and items else None
