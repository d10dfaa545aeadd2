"""Dialect rendering and bound parameters.

Caller values never enter SQL text: the AST holds `Param` nodes naming a `Slot` (where the
value comes from in the request and which type it must have). Rendering marks each Param
with NUL-delimited slot numbers (NUL cannot occur elsewhere: definition literals refuse it),
then rewrites the marks into `?` (DuckDB, SQLite; one parameter per occurrence, in text
order) or `$n` (PostgreSQL; one per slot). `bind` turns a request into the params tuple.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.sqlite import SQLite

from app.compiler.nodes import dtype
from app.compiler.time import Step, shift_date
from app.errors import Invalid
from app.query.schemas import QueryRequest


class Param(exp.Expression):
    """A bound parameter; `this` is the slot number as a string."""

    arg_types = {"this": True}


def _param_sql(_generator: Any, node: Param) -> str:
    return f"\x00{node.this}\x00"


class _DuckDB(DuckDB):
    class Generator(DuckDB.Generator):
        TRANSFORMS = {**DuckDB.Generator.TRANSFORMS, Param: _param_sql}


class _SQLite(SQLite):
    class Generator(SQLite.Generator):
        TRANSFORMS = {**SQLite.Generator.TRANSFORMS, Param: _param_sql}


class _Postgres(Postgres):
    class Generator(Postgres.Generator):
        TRANSFORMS = {**Postgres.Generator.TRANSFORMS, Param: _param_sql}


_DIALECTS = {"duckdb": _DuckDB(), "sqlite": _SQLite(), "postgres": _Postgres()}
_MARK = re.compile("\x00([0-9]+)\x00")
_CASTS = {
    "postgres": {"string": "text", "integer": "numeric", "decimal": "numeric", "float": "numeric",
                 "boolean": "boolean", "date": "date", "timestamp": "timestamp"},
    "duckdb": {"date": "date", "timestamp": "timestamp"},
    "sqlite": {},
}


@dataclass(frozen=True)
class Slot:
    """Where a parameter's value comes from: `start`/`end` of the time range (shifted by
    `shift` steps, each (n, unit) with a sign) or value `j` of filter `i`, coerced to `type`."""

    source: str
    i: int = 0
    j: int = 0
    type: str = "date"
    shift: tuple[tuple[Step, int], ...] = ()


class Params:
    """Collects slots while an AST is built; equal slots share one number."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.slots: list[Slot] = []

    def __call__(self, slot: Slot) -> exp.Expression:
        if slot not in self.slots:
            self.slots.append(slot)
        node: exp.Expression = Param(this=str(self.slots.index(slot)))
        cast = _CASTS[self.dialect].get(slot.type)
        return exp.Cast(this=node, to=dtype(cast)) if cast else node


def render(tree: exp.Expression, dialect: str) -> tuple[str, tuple[int, ...]]:
    """SQL text for `dialect` and the slot number of each positional parameter."""
    if dialect == "postgres":
        for node in list(tree.find_all(exp.Round)):
            if node.args.get("decimals") is not None:
                node.replace(_pg_round(node))
    if dialect == "sqlite":
        for node in list(tree.find_all(exp.DateDiff)):
            node.replace(_sqlite_date_diff(node))
    sql = _DIALECTS[dialect].generate(tree, copy=False)  # the tree is ours and fresh
    order: list[int] = []
    if dialect == "postgres":
        numbers: dict[int, int] = {}

        def dollar(match: re.Match[str]) -> str:
            slot = int(match.group(1))
            if slot not in numbers:
                numbers[slot] = len(numbers) + 1
                order.append(slot)
            return f"${numbers[slot]}"

        return _MARK.sub(dollar, sql), tuple(order)

    def qmark(match: re.Match[str]) -> str:
        order.append(int(match.group(1)))
        return "?"

    return _MARK.sub(qmark, sql), tuple(order)


_SQLITE_UNIT_FORMATS = {"SECOND": ("%Y-%m-%d %H:%M:%S", 1), "MINUTE": ("%Y-%m-%d %H:%M:00", 60),
                        "HOUR": ("%Y-%m-%d %H:00:00", 3600), "DAY": ("%Y-%m-%d 00:00:00", 86400)}


def _sqlite_date_diff(node: exp.DateDiff) -> exp.Expression:
    """Unit boundaries crossed from `expression` to `this`, like DuckDB, in exact integer seconds
    (sqlglot's JULIANDAY rendering truncates float minutes: 30 can come out as 29)."""
    fmt, seconds = _SQLITE_UNIT_FORMATS[node.text("unit").upper()]

    def epoch(e: exp.Expression) -> exp.Expression:
        floor = exp.Anonymous(this="STRFTIME", expressions=[exp.Literal.string(fmt), e.copy()])
        return exp.Cast(this=exp.Anonymous(this="STRFTIME", expressions=[exp.Literal.string("%s"), floor]),
                        to=dtype("int"))

    diff = exp.Paren(this=exp.Sub(this=epoch(node.this), expression=epoch(node.expression)))
    return exp.Paren(this=exp.Div(this=diff, expression=exp.Literal.number(seconds), typed=True))


def _pg_round(node: exp.Expression) -> exp.Expression:
    """PostgreSQL has ROUND(numeric, int) only; ROUND(double, n) fails."""
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        return exp.Round(this=exp.Cast(this=node.this.copy(), to=dtype("numeric")),
                         decimals=node.args["decimals"].copy())
    return node


def _coerce(value: Any, type_: str, pointer: str) -> Any:
    def bad() -> Invalid:
        return Invalid(f"value {value!r} does not fit a {type_} field", pointer=pointer, code="INVALID_FILTER_VALUE")

    if isinstance(value, str) and "\x00" in value:
        raise Invalid("filter values cannot contain NUL characters", pointer=pointer, code="INVALID_FILTER_VALUE")
    if type_ == "string":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise bad()
        return value if isinstance(value, str) else str(value)
    if type_ in ("integer", "decimal", "float"):
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, (int, float)):
            return value
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                raise bad() from None
    if type_ == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad()
    if isinstance(value, (bool, int, float)):
        raise bad()
    try:
        if type_ == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(value[:10])
        return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise bad() from None


def _for_dialect(value: Any, dialect: str) -> Any:
    if dialect != "sqlite":
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def slot_value(slot: Slot, request: QueryRequest) -> Any:
    if slot.source == "filter":
        f = request.filters[slot.i]
        return _coerce(f.values[slot.j], slot.type, f"/filters/{slot.i}/values/{slot.j}")
    value = getattr(request.time, slot.source)
    for step, sign in slot.shift:
        value = shift_date(value, step[0] * sign, step[1])
    return value


def bind(slots: tuple[Slot, ...], order: tuple[int, ...], request: QueryRequest, dialect: str) -> tuple:
    values = [_for_dialect(slot_value(s, request), dialect) for s in slots]
    return tuple(values[i] for i in order)
