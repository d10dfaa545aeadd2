"""A calculation fingerprint: equal when two metrics compute the same thing after normalisation.

Pure (no I/O). Formatting, identifier case and quoting, a qualifier naming the metric's own
dataset, commutative operand order, AND/OR order and `x >= a AND x <= b` vs BETWEEN all
normalise away (sqlglot's `normalize` + `simplify`, then a canonical operand order).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.optimizer.normalize import normalize
from sqlglot.optimizer.simplify import simplify

from app.canonical import sha256_of
from app.compiler.expressions import parse_derived, parse_filter, parse_measure

_COMMUTATIVE = (exp.Add, exp.Mul, exp.And, exp.Or)
_SYMMETRIC = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ)


def _flatten(node: exp.Expression, cls: type) -> list[exp.Expression]:
    if isinstance(node, cls):
        return _flatten(node.left, cls) + _flatten(node.right, cls)
    return [node]


def _canonical(node: exp.Expression) -> exp.Expression:
    """Sort operands of commutative chains and symmetric comparisons by their SQL text."""
    if isinstance(node, _COMMUTATIVE):
        parts = sorted((_canonical(p) for p in _flatten(node, type(node))), key=lambda p: p.sql())
        out = parts[0]
        for part in parts[1:]:
            out = type(node)(this=out, expression=part)
        return out
    if isinstance(node, _SYMMETRIC):
        left, right = sorted((_canonical(node.left), _canonical(node.right)), key=lambda p: p.sql())
        return type(node)(this=left, expression=right)
    if isinstance(node, exp.In) and node.expressions:
        values = sorted({v.sql(): v for v in node.expressions}.items())
        return exp.In(this=_canonical(node.this), expressions=[v for _, v in values])
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _canonical(value))
        elif isinstance(value, list):
            node.set(key, [_canonical(v) if isinstance(v, exp.Expression) else v for v in value])
    return node


def normal_sql(tree: exp.Expression, own_dataset: str | None = None) -> str:
    """The normal form of one expression as SQL text (the tree given is not mutated)."""
    tree = tree.copy()
    for paren in list(tree.find_all(exp.Paren)):
        paren.replace(paren.this)
    for ident in tree.find_all(exp.Identifier):
        ident.set("this", ident.name.lower())
        ident.set("quoted", False)
    for column in tree.find_all(exp.Column):
        if own_dataset and column.table == own_dataset:
            column.set("table", None)
    tree = simplify(normalize(tree))
    return _canonical(tree).sql(dialect="duckdb")


def calculation(definition: Any) -> dict[str, Any]:
    """The parts of a metric that decide its numbers, normalised."""
    kind = definition.type
    if kind == "simple":
        return {
            "type": kind,
            "dataset": definition.dataset,
            "measure": normal_sql(parse_measure(definition.measure), definition.dataset),
            "filter": normal_sql(parse_filter(definition.filter), definition.dataset) if definition.filter else None,
            "time_column": definition.time_column,
        }
    if kind == "ratio":
        return {"type": kind, "numerator": definition.numerator, "denominator": definition.denominator}
    if kind == "derived":
        return {"type": kind, "expr": normal_sql(parse_derived(definition.expr))}
    return {"type": kind, "base": definition.base, "window": definition.window, "grain_to_date": definition.grain_to_date}


def fingerprint(definition: Any) -> str | None:
    """SHA-256 of the normalised calculation; None when an expression cannot be normalised."""
    try:
        return sha256_of(calculation(definition))
    except Exception:  # noqa: BLE001 - validation reports bad expressions; no fingerprint then
        return None
