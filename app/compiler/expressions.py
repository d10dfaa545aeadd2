"""The small SQL subset of definitions: parsed once with sqlglot, checked against an allow-list.

Measures, filters, computed dimensions and derived-metric expressions are parsed into
ASTs here. Anything outside the allow-list (unknown functions, subqueries, table
functions, statements, parameters, stars) raises `ExpressionError` naming the fragment.
Parsed ASTs are cached by (kind, text) and shared: callers must copy before mutating.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from app.errors import ErrorCode

AGGREGATES: tuple[type[exp.Expression], ...] = (exp.Sum, exp.Count, exp.Avg, exp.Min, exp.Max)
SCALAR_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Coalesce, exp.Nullif, exp.Abs, exp.Round, exp.Lower, exp.Upper, exp.Length,
    exp.Greatest, exp.Least, exp.Cast, exp.Case, exp.If, exp.DateDiff, exp.Var,
)
DATE_DIFF_UNITS = {"SECOND", "MINUTE", "HOUR", "DAY"}
DERIVED_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Coalesce, exp.Nullif, exp.Abs, exp.Round, exp.Greatest, exp.Least,
)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.Paren)
_LOGIC = (
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between,
    exp.Like, exp.ILike, exp.And, exp.Or, exp.Not, exp.DPipe, exp.NullSafeEQ, exp.NullSafeNEQ,
)
_LEAVES = (exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.DataType, exp.DataTypeParam)
ROW_NODES = _ARITHMETIC + _LOGIC + _LEAVES + SCALAR_FUNCTIONS
CAST_TYPES = {
    exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT,
    exp.DataType.Type.TINYINT, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT,
    exp.DataType.Type.DECIMAL, exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT,
    exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.BOOLEAN,
}
PLACEHOLDER = re.compile(r"\{\s*([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)\s*\}")
MAX_DEPTH = 64


class ExpressionError(ValueError):
    """A definition expression outside the allowed subset; `fragment` is the offending part."""

    def __init__(self, message: str, fragment: str, code: ErrorCode = ErrorCode.INVALID_EXPRESSION) -> None:
        super().__init__(f"{message}: {fragment}" if fragment else message)
        self.message = message
        self.fragment = fragment
        self.code = code


def _fragment(node: exp.Expression) -> str:
    try:
        return node.sql(dialect="duckdb")[:200]
    except Exception:  # noqa: BLE001 - a fragment is best effort
        return type(node).__name__


def _parse_one(text: str) -> exp.Expression:
    if "\x00" in text:
        raise ExpressionError("NUL characters are not allowed", "\\x00")
    try:
        trees = [t for t in sqlglot.parse(text, read="duckdb") if t is not None]
    except (SqlglotError, RecursionError) as err:
        raise ExpressionError("cannot parse expression", text[:200]) from err
    if len(trees) != 1:
        fragment = _fragment(trees[1]) if len(trees) > 1 else text[:200]
        raise ExpressionError("exactly one expression is allowed, not statements", fragment)
    return trees[0]


def _depth_ok(node: exp.Expression) -> None:
    stack = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError("expression is nested too deeply", _fragment(current))
        stack.extend((child, depth + 1) for child in current.iter_expressions())


def _check_node(node: exp.Expression, allowed: tuple[type[exp.Expression], ...]) -> None:
    if isinstance(node, exp.Star):
        parent = node.parent
        if isinstance(parent, exp.Count) and parent.this is node and exp.Count in allowed:
            return
        raise ExpressionError("'*' is only allowed as COUNT(*)", _fragment(parent or node))
    if isinstance(node, exp.Distinct):
        if isinstance(node.parent, exp.Count) and len(node.expressions) == 1 and exp.Count in allowed:
            return
        raise ExpressionError("DISTINCT is only allowed as COUNT(DISTINCT x)", _fragment(node.parent or node))
    if not isinstance(node, allowed):
        if isinstance(node, exp.Func):
            raise ExpressionError("function is not allowed", _fragment(node), ErrorCode.FORBIDDEN_FUNCTION)
        raise ExpressionError("construct is not allowed", _fragment(node))
    if isinstance(node, exp.In) and (node.args.get("query") or node.args.get("unnest") or node.args.get("field")):
        raise ExpressionError("IN is only allowed with a list of values", _fragment(node))
    if isinstance(node, exp.Column) and (node.args.get("db") or node.args.get("catalog")):
        raise ExpressionError("columns are named `column` or `dataset.column`", _fragment(node))
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Identifier):
        raise ExpressionError("construct is not allowed", _fragment(node))
    if isinstance(node, exp.DataType) and (node.this not in CAST_TYPES or node.args.get("nested")):
        raise ExpressionError("only simple types can be cast to", _fragment(node.parent or node))
    if isinstance(node, exp.Var) and not (isinstance(node.parent, exp.DateDiff) and node.arg_key == "unit"):
        raise ExpressionError("construct is not allowed", _fragment(node))
    if isinstance(node, exp.DateDiff) and node.text("unit").upper() not in DATE_DIFF_UNITS:
        raise ExpressionError("DATE_DIFF takes 'second', 'minute', 'hour' or 'day'", _fragment(node))
    if isinstance(node, exp.Literal) and node.is_string and "\x00" in node.this:
        raise ExpressionError("NUL characters are not allowed", "\\x00")
    _check_values(node)


MAX_DECIMAL_PRECISION = 38
MAX_ROUND_DIGITS = 38
_LITERAL_PARSERS = {
    exp.DataType.Type.DATE: dt.date.fromisoformat,
    exp.DataType.Type.TIMESTAMP: dt.datetime.fromisoformat,
    **dict.fromkeys((exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.TINYINT), int),
    **dict.fromkeys((exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL), decimal.Decimal),
}


def _integer(node: exp.Expression | None) -> int | None:
    """The value of an integer literal (optionally negated), else None."""
    negate = isinstance(node, exp.Neg)
    node = node.this if negate else node
    if not isinstance(node, exp.Literal) or node.is_string or not re.fullmatch(r"\d{1,6}", node.this):
        return None
    return -int(node.this) if negate else int(node.this)


def _check_values(node: exp.Expression) -> None:
    """Constants every engine would refuse at run time are refused at registration: a definition
    that parses must also run (type bounds, calendar dates, finite numbers)."""
    if isinstance(node, exp.Literal) and not node.is_string and not math.isfinite(float(node.this)):
        raise ExpressionError("numbers must be finite", _fragment(node))
    if isinstance(node, exp.DataType) and node.expressions:
        params = [_integer(p.this if isinstance(p, exp.DataTypeParam) else p) for p in node.expressions]
        precision, scale = (params + [0])[:2]
        if (node.this != exp.DataType.Type.DECIMAL or len(params) > 2 or precision is None or scale is None
                or not 1 <= precision <= MAX_DECIMAL_PRECISION or not 0 <= scale <= precision):
            raise ExpressionError(f"a type takes parameters only as DECIMAL(p, s) with 1 <= p <= {MAX_DECIMAL_PRECISION} and 0 <= s <= p",
                                  _fragment(node.parent or node))
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        digits = _integer(node.args["decimals"])
        if digits is None or abs(digits) > MAX_ROUND_DIGITS:
            raise ExpressionError(f"ROUND takes a whole number of digits between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}", _fragment(node))
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        parse = _LITERAL_PARSERS.get(node.to.this)
        if parse is not None:
            try:
                parse(node.this.this.strip())
            except (ValueError, ArithmeticError):
                raise ExpressionError(f"'{node.this.this[:40]}' is not a valid {node.to.this.value}", _fragment(node)) from None


def _check(tree: exp.Expression, allowed: tuple[type[exp.Expression], ...]) -> exp.Expression:
    _depth_ok(tree)
    for node in tree.walk():
        _check_node(node, allowed)
    return tree


def _check_measure(tree: exp.Expression) -> exp.Expression:
    _check(tree, ROW_NODES + AGGREGATES)
    found = 0
    for node in tree.walk():
        if isinstance(node, AGGREGATES):
            found += 1
            outer = node.find_ancestor(*AGGREGATES)
            if outer is not None:
                raise ExpressionError("aggregates cannot be nested", _fragment(outer))
        elif isinstance(node, exp.Column) and node.find_ancestor(*AGGREGATES) is None:
            raise ExpressionError("columns must be inside an aggregate", _fragment(node))
    if not found:
        raise ExpressionError("a measure needs an aggregate (SUM, COUNT, AVG, MIN, MAX)", _fragment(tree))
    return tree


def _check_row(tree: exp.Expression) -> exp.Expression:
    return _check(tree, ROW_NODES)


def _check_derived(tree: exp.Expression) -> exp.Expression:
    _check(tree, _ARITHMETIC + (exp.Column, exp.Identifier, exp.Literal, exp.Null) + DERIVED_FUNCTIONS)
    for node in tree.find_all(exp.Literal):
        if node.is_string:
            raise ExpressionError("only numeric literals are allowed in a derived expression", _fragment(node))
    return tree


def _substitute_refs(text: str) -> tuple[str, list[str]]:
    """Replace `{metric.key}` with quoted identifiers; refuse other braces."""
    refs: list[str] = []

    def repl(match: re.Match[str]) -> str:
        if match.group(1) not in refs:
            refs.append(match.group(1))
        return f'"{match.group(1)}"'

    if '"' in text:
        raise ExpressionError("quoted identifiers are not allowed in a derived expression", '"')
    replaced = PLACEHOLDER.sub(repl, text)
    if "{" in replaced or "}" in replaced:
        start = replaced.find("{") if "{" in replaced else replaced.find("}")
        raise ExpressionError("metric references are written {domain.metric}", replaced[start : start + 40])
    return replaced, refs


@lru_cache(maxsize=4096)
def _parsed(kind: str, text: str) -> exp.Expression:
    if kind == "measure":
        return _check_measure(_parse_one(text))
    if kind == "row":
        return _check_row(_parse_one(text))
    if kind == "derived":
        replaced, refs = _substitute_refs(text)
        tree = _check_derived(_parse_one(replaced))
        for column in tree.find_all(exp.Column):
            if not column.this.quoted:
                raise ExpressionError("a derived expression refers to metrics as {domain.metric}", column.name)
        if not refs:
            raise ExpressionError("a derived expression needs at least one {metric} reference", text[:200])
        return tree
    raise ValueError(f"unknown expression kind {kind}")


def parse_measure(text: str) -> exp.Expression:
    """An aggregate expression (SUM/COUNT/AVG/MIN/MAX, arithmetic over them); shared AST, do not mutate."""
    return _parsed("measure", text)


def parse_filter(text: str) -> exp.Expression:
    """A row-level boolean expression, no aggregates; shared AST, do not mutate."""
    return _parsed("row", text)


def parse_dimension_expr(text: str) -> exp.Expression:
    """A row-level scalar expression, no aggregates; shared AST, do not mutate."""
    return _parsed("row", text)


def parse_derived(text: str) -> exp.Expression:
    """Arithmetic over `{metric.key}` references; each reference is a Column named by the key."""
    return _parsed("derived", text)


def derived_references(text: str) -> list[str]:
    """Metric keys referenced by a derived expression, in order of first appearance."""
    return _substitute_refs(text)[1]


def column_refs(expr: exp.Expression) -> set[tuple[str | None, str]]:
    """(qualifier, column) pairs used by an expression; qualifier None when unqualified."""
    return {(c.table or None, c.name) for c in expr.find_all(exp.Column)}
