"""Field-level diff of two definitions, e.g. `measure: "SUM(amount)" → "SUM(net_amount)"`."""

from __future__ import annotations

import json
from typing import Any

from app.catalog.schemas import Change

_ABSENT = object()


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _walk(path: str, before: Any, after: Any, out: list[Change]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            _walk(f"{path}/{key}", before.get(key, _ABSENT), after.get(key, _ABSENT), out)
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            _walk(f"{path}/{i}", b, a, out)
        return
    field = path.lstrip("/").replace("/", ".")
    if before is _ABSENT:
        out.append(Change(path=path, op="add", after=after, summary=f"{field}: + {_show(after)}"))
    elif after is _ABSENT:
        out.append(Change(path=path, op="remove", before=before, summary=f"{field}: - {_show(before)}"))
    else:
        out.append(Change(path=path, op="replace", before=before, after=after, summary=f"{field}: {_show(before)} → {_show(after)}"))


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    out: list[Change] = []
    _walk("", before, after, out)
    return out
