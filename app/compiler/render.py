"""Dialect rendering and bound parameters.

Caller values never enter SQL text: the AST holds `Param` nodes naming a `Slot` (where the
value comes from in the request and which type it must have). Rendering marks each Param
with NUL-delimited slot numbers (NUL cannot occur elsewhere: definition literals refuse it),
then rewrites the marks into `?` (DuckDB, SQLite, Trino; one parameter per occurrence, in
text order), `$n` (PostgreSQL; one per slot), or named markers, one per slot: `:p0` (Spark)
and `{p0:Type}` (ClickHouse server-side binding). For named dialects, value k of the params
tuple is named `p<k>`. `bind` turns a request into the params tuple.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from sqlglot import exp
from sqlglot.dialects.clickhouse import ClickHouse
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.spark import Spark
from sqlglot.dialects.sqlite import SQLite
from sqlglot.dialects.trino import Trino

from app.compiler.nodes import dtype
from app.compiler.request import MetricQuery
from app.compiler.time import Step, shift_date
from app.errors import ErrorCode, Invalid


class Param(exp.Expression):
    """A bound parameter; `this` is the slot number as a string, `type` its ClickHouse type."""

    arg_types = {"this": True, "type": False}


def _param_sql(_generator: Any, node: Param) -> str:
    typed = f":{node.args['type']}" if node.args.get("type") else ""
    return f"\x00{node.this}{typed}\x00"


class _DuckDB(DuckDB):
    class Generator(DuckDB.Generator):
        TRANSFORMS = {**DuckDB.Generator.TRANSFORMS, Param: _param_sql}


class _SQLite(SQLite):
    class Generator(SQLite.Generator):
        TRANSFORMS = {**SQLite.Generator.TRANSFORMS, Param: _param_sql}


class _Postgres(Postgres):
    class Generator(Postgres.Generator):
        TRANSFORMS = {**Postgres.Generator.TRANSFORMS, Param: _param_sql}


class _ClickHouse(ClickHouse):
    class Generator(ClickHouse.Generator):
        TRANSFORMS = {**ClickHouse.Generator.TRANSFORMS, Param: _param_sql}


class _Spark(Spark):
    class Generator(Spark.Generator):
        TRANSFORMS = {**Spark.Generator.TRANSFORMS, Param: _param_sql}


class _Trino(Trino):
    class Generator(Trino.Generator):
        TRANSFORMS = {**Trino.Generator.TRANSFORMS, Param: _param_sql}


_DIALECTS = {"duckdb": _DuckDB(), "sqlite": _SQLite(), "postgres": _Postgres(),
             "clickhouse": _ClickHouse(), "spark": _Spark(), "trino": _Trino()}
_MARK = re.compile("\x00([0-9]+)(?::([^\x00]+))?\x00")
_NAMED = {"spark": ":p{k}", "clickhouse": "{{p{k}:{type}}}"}  # named markers, one per slot
# ClickHouse types of bound values; numbers bind as Decimal so they compare exactly with any column.
_CLICKHOUSE_TYPES = {"string": "String", "integer": "Decimal(38, 10)", "decimal": "Decimal(38, 10)",
                     "float": "Float64", "boolean": "Bool", "date": "Date", "timestamp": "DateTime64(6)"}
_CASTS = {
    "postgres": {"string": "text", "integer": "numeric", "decimal": "numeric", "float": "numeric",
                 "boolean": "boolean", "date": "date", "timestamp": "timestamp"},
    "duckdb": {"date": "date", "timestamp": "timestamp"},
    "sqlite": {},
    "clickhouse": {},  # the marker carries the type
    "spark": {"date": "date", "timestamp": "timestamp"},
    "trino": {},
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
    """Collects slots while an AST is built; equal slots share one number (a dict lookup: linear in the values)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.numbers: dict[Slot, int] = {}

    @property
    def slots(self) -> list[Slot]:
        return list(self.numbers)

    def __call__(self, slot: Slot) -> exp.Expression:
        number = self.numbers.setdefault(slot, len(self.numbers))
        node: exp.Expression = Param(this=str(number))
        if self.dialect == "clickhouse":
            node.set("type", _CLICKHOUSE_TYPES[slot.type])
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
    if dialect == "clickhouse":
        _name_qualified_projections(tree)
        _pair_lone_join_inequalities(tree)
    if dialect in ("clickhouse", "spark"):
        for node in list(tree.find_all(exp.Anonymous)):
            if node.name.upper() == "STRPOS":
                node.replace(exp.StrPosition(this=node.expressions[0], substr=node.expressions[1]))
    sql = _DIALECTS[dialect].generate(tree, copy=False)  # the tree is ours and fresh
    order: list[int] = []
    if dialect == "postgres" or dialect in _NAMED:
        numbers: dict[int, int] = {}
        pattern = _NAMED.get(dialect)

        def numbered(match: re.Match[str]) -> str:
            slot = int(match.group(1))
            if slot not in numbers:
                numbers[slot] = len(numbers)
                order.append(slot)
            if pattern is None:
                return f"${numbers[slot] + 1}"
            return pattern.format(k=numbers[slot], type=match.group(2))

        return _MARK.sub(numbered, sql), tuple(order)

    def qmark(match: re.Match[str]) -> str:
        order.append(int(match.group(1)))
        return "?"

    return _MARK.sub(qmark, sql), tuple(order)


def _name_qualified_projections(tree: exp.Expression) -> None:
    """ClickHouse names an unaliased `k._mt` projection "k._mt", not "_mt": alias it."""
    for select in tree.find_all(exp.Select):
        for i, node in enumerate(select.expressions):
            if isinstance(node, exp.Column) and node.table:
                select.expressions[i] = exp.Alias(this=node, alias=exp.Identifier(this=node.name))
                select.expressions[i].parent = select


def _pair_lone_join_inequalities(tree: exp.Expression) -> None:
    """ClickHouse plans a non-equi LEFT JOIN only with two or more conditions ("Cannot determine
    join keys" for a lone `r._t < x`, checked on 26.9); stating the condition twice is the same join."""
    for join in tree.find_all(exp.Join):
        on = join.args.get("on")
        if isinstance(on, (exp.LT, exp.LTE, exp.GT, exp.GTE)):
            join.set("on", exp.And(this=on, expression=on.copy()))


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
        return Invalid(f"value {value!r} does not fit a {type_} field", pointer=pointer, code=ErrorCode.INVALID_FILTER_VALUE)

    if isinstance(value, str) and "\x00" in value:
        raise Invalid("filter values cannot contain NUL characters", pointer=pointer, code=ErrorCode.INVALID_FILTER_VALUE)
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
                number = float(value)
            except ValueError:
                raise bad() from None
            if not math.isfinite(number):  # "NaN", "Infinity", "1e999": engines disagree on them
                raise bad()
            return number
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


def slot_value(slot: Slot, request: MetricQuery) -> Any:
    if slot.source == "filter":
        f = request.filters[slot.i]
        return _coerce(f.values[slot.j], slot.type, f"/filters/{slot.i}/values/{slot.j}")
    value = getattr(request.time, slot.source)
    for step, sign in slot.shift:
        value = shift_date(value, step[0] * sign, step[1])
    return value


def bind(slots: tuple[Slot, ...], order: tuple[int, ...], request: MetricQuery, dialect: str) -> tuple:
    values = [_for_dialect(slot_value(s, request), dialect) for s in slots]
    return tuple(values[i] for i in order)
