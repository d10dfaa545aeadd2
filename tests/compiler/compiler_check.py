"""Run a request on an engine and compare with the Python reference."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from compiler_data import definitions
from compiler_reference import Reference

from app.compiler.plan import compile_query
from app.query.schemas import QueryRequest


def _norm(value, type_: str):
    if value is None:
        return None
    if type_ == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if type_ == "date" and isinstance(value, dt.datetime):
        return value.date()
    if type_ == "boolean" and isinstance(value, int):
        return bool(value)
    return value


def close(actual, expected) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(expected, (int, float, Decimal)) and not isinstance(expected, bool):
        a, e = float(actual), float(expected)
        if isinstance(expected, Decimal) or isinstance(actual, Decimal):
            return abs(a - e) <= 0.005  # money: to the cent
        return math.isclose(a, e, rel_tol=1e-9, abs_tol=1e-9)
    return actual == expected


def _sort_key(row: dict, names: list[str]):
    return tuple((v is None, str(v)) for v in (row[n] for n in names))


async def check(engine, body: dict, *, ordered: bool = False) -> list[dict]:
    request = QueryRequest.model_validate(body)
    compiled = compile_query(request, definitions(engine.kind))
    raw = await engine.fetch(compiled.sql, compiled.params)
    names = [c.name for c in compiled.columns]
    got = [{c.name: _norm(v, c.type) for c, v in zip(compiled.columns, row)} for row in raw]
    want = Reference(request).answer()
    keys = [c.name for c in compiled.columns if c.kind in ("time", "dimension")]
    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)}\n{compiled.sql}"
    want.sort(key=lambda r: _sort_key(r, keys))
    if not ordered:
        got.sort(key=lambda r: _sort_key(r, keys))
    for g, w in zip(got, want):
        assert [g[k] for k in keys] == [w[k] for k in keys], (g, w)
        for n in names:
            assert close(g[n], w[n]), f"{n}: got {g[n]!r}, expected {w[n]!r} at {[g[k] for k in keys]}"
    return got
