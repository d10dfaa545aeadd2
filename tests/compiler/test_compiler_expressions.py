"""The definition SQL subset: what parses, what is refused and which fragment is named."""

from __future__ import annotations

import pytest

from app.compiler.expressions import (
    ExpressionError, column_refs, derived_references, parse_derived, parse_dimension_expr, parse_filter,
    parse_measure,
)


@pytest.mark.parametrize("text", [
    "SUM(amount)", "COUNT(*)", "COUNT(DISTINCT customer_id)", "AVG(amount)", "MIN(ordered_at)", "MAX(amount)",
    "SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END)", "SUM(a) - SUM(b)", "ROUND(SUM(a) / COUNT(*), 2)",
    "SUM(CAST(quantity AS DOUBLE) * 1.5)", "COUNT(DISTINCT LOWER(email))", "SUM(COALESCE(amount, 0))",
])
def test_measures_accepted(text):
    parse_measure(text)


@pytest.mark.parametrize("text,fragment,code", [
    ("read_csv('/etc/passwd')", "READ_CSV('/etc/passwd')", "FORBIDDEN_FUNCTION"),
    ("SUM(LENGTH(read_text('/etc/passwd')))", "READ_TEXT('/etc/passwd')", "FORBIDDEN_FUNCTION"),
    ("COUNT(glob('*'))", "GLOB('*')", "FORBIDDEN_FUNCTION"),
    ("SUM(amount); DROP TABLE orders", "DROP TABLE orders", "INVALID_EXPRESSION"),
    ("SUM((SELECT 1))", "(SELECT 1)", "INVALID_EXPRESSION"),
    ("SUM(SUM(amount))", "SUM(SUM(amount))", "INVALID_EXPRESSION"),
    ("SUM(amount) + amount", "amount", "INVALID_EXPRESSION"),
    ("amount", "amount", "INVALID_EXPRESSION"),
    ("SUM(*)", "SUM(*)", "INVALID_EXPRESSION"),
    ("COUNT(*) + $1", "$1", "INVALID_EXPRESSION"),
    ("SUM(amount) OVER ()", "SUM(amount) OVER ()", "INVALID_EXPRESSION"),
    ("SUM(amount) FILTER (WHERE status = 'x')", None, "INVALID_EXPRESSION"),
    ("SUM(pg_sleep(10))", "PG_SLEEP(10)", "FORBIDDEN_FUNCTION"),
    ("SUM(x.y.z)", "x.y.z", "INVALID_EXPRESSION"),
    ("SUM(CAST(a AS STRUCT(b INT)))", None, "INVALID_EXPRESSION"),
    ("SUM(amount) FROM read_csv('x')", None, "INVALID_EXPRESSION"),
    ("", None, "INVALID_EXPRESSION"),
])
def test_measures_refused(text, fragment, code):
    with pytest.raises(ExpressionError) as err:
        parse_measure(text)
    assert err.value.code == code
    if fragment:
        assert err.value.fragment == fragment


@pytest.mark.parametrize("text", [
    "status = 'paid' AND amount > 0", "customers.country = 'MX'", "channel IN ('web', 'app')",
    "amount BETWEEN 1 AND 10", "LOWER(name) LIKE 'a%'", "region IS NOT NULL", "NOT is_test",
    "CASE WHEN a > 1 THEN 'x' ELSE 'y' END = 'x'", "GREATEST(a, b) < 3", "LENGTH(UPPER(code)) = 2",
])
def test_row_expressions_accepted(text):
    parse_filter(text)
    parse_dimension_expr(text)


@pytest.mark.parametrize("text", [
    "a IN (SELECT id FROM t)", "EXISTS (SELECT 1)", "SUM(amount) > 1", "*", "x = ?", "x = :p", "x = $1",
    "status = 'a'; DELETE FROM orders", "a = (SELECT 1)", "read_parquet('f') IS NULL", "x = current_setting('a')",
    "{'a': 1}", "a[1] = 2", "'a\x00b' = a",
])
def test_row_expressions_refused(text):
    with pytest.raises(ExpressionError):
        parse_filter(text)


def test_derived_references_and_parse():
    text = "{sales.gmv} / NULLIF({sales.orders}, 0) + ABS({sales.gmv})"
    assert derived_references(text) == ["sales.gmv", "sales.orders"]
    tree = parse_derived(text)
    assert {c for _, c in column_refs(tree)} == {"sales.gmv", "sales.orders"}


@pytest.mark.parametrize("text", [
    "{a.b} + x", "{a.b} + 'x'", "LOWER({a.b})", "1 + 1", "{a.b} + {", "{A.b}", "(SELECT 1) + {a.b}",
    "read_csv('x') + {a.b}", '"a.b" + 1', "{a.b}; DROP TABLE t",
])
def test_derived_refused(text):
    with pytest.raises(ExpressionError):
        parse_derived(text)


def test_column_refs():
    assert column_refs(parse_filter("orders.status = 'x' AND amount > customers.limit_value")) == {
        ("orders", "status"), (None, "amount"), ("customers", "limit_value")}


def test_parsed_trees_are_cached():
    assert parse_measure("SUM(amount)") is parse_measure("SUM(amount)")


def test_deep_nesting_is_refused_not_crashing():
    with pytest.raises(ExpressionError):
        parse_filter("(" * 300 + "a" + ")" * 300 + " = 1")


def test_date_diff_units():
    parse_measure("AVG(date_diff('minute', opened_at, first_response_at) / 60.0)")
    with pytest.raises(ExpressionError):
        parse_measure("AVG(date_diff('month', opened_at, first_response_at))")
