"""Time per dialect: grains, date shifts and windows, rendered by hand (sqlglot's
DATE_TRUNC transpilation is wrong for SQLite). Every function returns a DATE-valued
expression (ISO text on SQLite). Python twins of the shifts compute bound parameters.
"""

from __future__ import annotations

import calendar
import datetime as dt

import sqlglot
from sqlglot import exp

from app.compiler.nodes import dtype
from app.errors import ErrorCode, Invalid

SOURCE_DIALECTS = {"duckdb": "duckdb", "sqlite": "sqlite", "postgresql": "postgres",
                   "clickhouse": "clickhouse", "spark": "spark", "trino": "trino"}
# ClickHouse's toStartOfWeek starts on Sunday by default: weeks use toMonday instead.
_CLICKHOUSE_STARTS = {"day": "toDate", "week": "toMonday", "month": "toStartOfMonth",
                      "quarter": "toStartOfQuarter", "year": "toStartOfYear"}

Step = tuple[int, str]  # (n, "day" | "month")
GRAIN_STEPS: dict[str, Step] = {
    "day": (1, "day"), "week": (7, "day"), "month": (1, "month"), "quarter": (3, "month"), "year": (12, "month"),
}


def dialect_for(kind: str) -> str:
    if kind in SOURCE_DIALECTS:
        return SOURCE_DIALECTS[kind]
    raise Invalid(f"sources of kind '{kind}' cannot be queried yet", code=ErrorCode.UNSUPPORTED_SOURCE)


def window_step(window: str) -> Step:
    """'7 days' -> (7, 'day'); '1 month' -> (1, 'month'); weeks are 7 days, quarters 3 months."""
    count, unit = window.split()
    n, base = GRAIN_STEPS[unit.rstrip("s")]
    return int(count) * n, base


def comparison_step(comparison: str, grain: str) -> Step:
    if comparison == "previous_period":
        return GRAIN_STEPS[grain]
    return (364, "day") if grain == "week" else (12, "month")


def shift_date(value: dt.date, n: int, unit: str) -> dt.date:
    """Add n days or months; months clamp to the month's end like PostgreSQL and DuckDB. A shift
    (a comparison, a window, an offset) that leaves the years 1 to 9999 is a 422."""
    try:
        if unit == "day":
            return value + dt.timedelta(days=n)
        months = value.year * 12 + value.month - 1 + n
        year, month = divmod(months, 12)
        day = min(value.day, calendar.monthrange(year, month + 1)[1])
        return value.replace(year=year, month=month + 1, day=day)
    except (OverflowError, ValueError):
        raise Invalid(f"{value.isoformat()} shifted by {n} {unit}s leaves the years 1 to 9999: narrow the time range",
                      pointer="/time", code=ErrorCode.INVALID_QUERY) from None


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _s(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def as_date(e: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "sqlite":
        return _fn("DATE", e)
    if dialect == "clickhouse":
        return _fn("toDate", e)
    return exp.Cast(this=e, to=dtype("date"))


def truncate(e: exp.Expression, grain: str, dialect: str) -> exp.Expression:
    """The first day of the `grain` period holding `e`; ISO weeks start on Monday."""
    if dialect == "sqlite":
        if grain == "day":
            return _fn("DATE", e)
        if grain == "week":
            return _fn("DATE", e, _s("weekday 0"), _s("-6 days"))
        if grain == "month":
            return _fn("DATE", e, _s("start of month"))
        if grain == "year":
            return _fn("DATE", e, _s("start of year"))
        month = exp.Cast(this=_fn("STRFTIME", _s("%m"), e), to=dtype("int"))
        offset = exp.Mul(this=exp.Paren(this=exp.Div(this=exp.Paren(this=exp.Sub(this=month, expression=exp.Literal.number(1))),
                                                     expression=exp.Literal.number(3), typed=True)),
                         expression=exp.Literal.number(3))
        return _fn("DATE", e, _s("start of year"), _fn("PRINTF", _s("+%d months"), offset))
    if dialect == "clickhouse":
        return _fn(_CLICKHOUSE_STARTS[grain], e)
    if dialect in ("duckdb", "postgres", "spark", "trino"):
        if dialect == "postgres":
            e = exp.Cast(this=e, to=dtype("timestamp"))
        return exp.Cast(this=_fn("DATE_TRUNC", _s(grain), e), to=dtype("date"))
    raise Invalid(f"time grains are not rendered for dialect '{dialect}' yet", code=ErrorCode.UNSUPPORTED_SOURCE)


def add(e: exp.Expression, step: Step, dialect: str, *, sign: int = 1, aligned: bool = False) -> exp.Expression:
    """`e` plus `sign * step`; `aligned` means `e` is a month start (no end-of-month clamping needed)."""
    n, unit = step[0] * sign, step[1]
    if dialect == "sqlite":
        if unit == "day":
            return _fn("DATE", e, _s(f"{n:+d} days"))
        if aligned:
            return _fn("DATE", e, _s(f"{n:+d} months"))
        # SQLite overflows (Jan 31 + 1 month = Mar 2); clamp to the target month's last day.
        day = exp.Sub(this=exp.Cast(this=_fn("STRFTIME", _s("%d"), e), to=dtype("int")),
                      expression=exp.Literal.number(1))
        naive = _fn("DATE", e, _s("start of month"), _s(f"{n:+d} months"), _fn("PRINTF", _s("+%d days"), day))
        month_end = _fn("DATE", e, _s("start of month"), _s(f"{n + 1:+d} months"), _s("-1 days"))
        return _fn("MIN", naive, month_end)
    if dialect in ("duckdb", "postgres"):
        interval = exp.Interval(this=_s(f"{n} {unit}"))
        return exp.Cast(this=exp.Add(this=e, expression=interval), to=dtype("date"))
    # The three below clamp months to the month's end, like shift_date.
    number = exp.Literal.number(n)
    if dialect == "clickhouse":
        return _fn("addDays" if unit == "day" else "addMonths", e, number)
    if dialect == "spark":
        return _fn("DATE_ADD" if unit == "day" else "ADD_MONTHS", e, number)
    if dialect == "trino":
        return exp.Cast(this=_fn("DATE_ADD", _s(unit), number, e), to=dtype("date"))
    raise Invalid(f"date arithmetic is not rendered for dialect '{dialect}' yet", code=ErrorCode.UNSUPPORTED_SOURCE)


def series_spine(bounds: str, step: Step, dialect: str) -> exp.Expression | None:
    """`SELECT _mt` for every period from `bounds`.lo to .hi as one generated series, for
    dialects where a recursive CTE is slow (Spark runs one job per step) or capped (Trino
    unrolls it, 10 steps by default); None elsewhere (use the recursive CTE). Like the
    recursive spine, it holds `lo` even when `hi` is before it or NULL, and nothing when `lo` is NULL."""
    interval = f"INTERVAL '{step[0]}' {step[1].upper()}"
    series = f"SEQUENCE(b.lo, GREATEST(b.lo, COALESCE(b.hi, b.lo)), {interval})"
    if dialect == "spark":
        return sqlglot.parse_one(f"SELECT EXPLODE({series}) AS _mt FROM {bounds} AS b", read="spark")
    if dialect == "trino":
        return sqlglot.parse_one(f"SELECT u._mt AS _mt FROM {bounds} AS b CROSS JOIN UNNEST({series}) AS u(_mt)",
                                 read="trino")
    return None
