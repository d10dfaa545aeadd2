"""The demo warehouse: sizes, determinism, and invariants a dashboard would rely on."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from app.demo.warehouse import TABLES, build_warehouse

CHECKSUMS = """
SELECT
  (SELECT (count(*), sum(amount), sum(discount), sum(hash(order_id, customer_id, region, channel, status, ordered_at,
           is_first_order))) FROM orders),
  (SELECT (count(*), sum(amount), sum(hash(payment_id, order_id, paid_at))) FROM order_payments),
  (SELECT (count(*), sum(hash(customer_id, name, region_id, segment, signup_date, city))) FROM customers),
  (SELECT (count(*), sum(hash(ticket_id, customer_id, region, opened_at, first_response_at, resolved_at, category,
           is_complaint, satisfaction))) FROM tickets),
  (SELECT (count(*), sum(hash(region_id, region, manager))) FROM regions)
"""


def _query(path, sql):
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    build_warehouse(path)
    return path


def test_sizes(warehouse):
    counts = {t: _query(warehouse, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    assert counts["regions"] == 5
    assert counts["customers"] == 20_000
    assert 140_000 <= counts["orders"] <= 160_000
    assert 125_000 <= counts["order_payments"] <= 150_000
    assert 25_000 <= counts["tickets"] <= 35_000
    assert not list(warehouse.parent.glob(".*.tmp*")), "the temporary build file is left behind"


def test_same_seed_same_data_other_seed_other_data(warehouse, tmp_path):
    again, other = tmp_path / "again.duckdb", tmp_path / "other.duckdb"
    build_warehouse(again, seed=7)
    build_warehouse(other, seed=8)
    assert _query(again, CHECKSUMS) == _query(warehouse, CHECKSUMS)
    assert _query(other, CHECKSUMS) != _query(warehouse, CHECKSUMS)


def test_existing_file_is_kept(warehouse):
    before = warehouse.stat().st_mtime_ns
    build_warehouse(warehouse, seed=99)
    assert warehouse.stat().st_mtime_ns == before


def test_range_growth_and_seasonality(warehouse):
    (first, last), = _query(warehouse, "SELECT min(ordered_at), max(ordered_at) FROM orders")
    assert first.year == 2025 and last.year == 2026
    by_year = dict(_query(warehouse, "SELECT year(ordered_at), sum(amount) FROM orders WHERE status = 'paid' GROUP BY 1"))
    assert by_year[2026] > by_year[2025] * Decimal("1.15")
    months = dict(_query(warehouse, "SELECT month(ordered_at), count(*) FROM orders WHERE year(ordered_at) = 2025 GROUP BY 1"))
    assert months[11] > months[10] > months[2]


def test_payments_never_exceed_the_order(warehouse):
    over = """
        SELECT count(*) FROM (
            SELECT o.order_id FROM order_payments p JOIN orders o USING (order_id)
            GROUP BY o.order_id, o.amount HAVING sum(p.amount) > o.amount)
    """
    assert _query(warehouse, over) == [(0,)]
    assert _query(warehouse, "SELECT count(*) FROM order_payments p JOIN orders o USING (order_id) "
                             "WHERE o.status <> 'paid' OR p.paid_at < o.ordered_at") == [(0,)]
    (rate,), = _query(warehouse, "SELECT (SELECT sum(amount) FROM order_payments) / sum(amount) FROM orders WHERE status = 'paid'")
    assert 0.85 < rate < 1


def test_ticket_times_are_ordered(warehouse):
    bad = """
        SELECT count(*) FROM tickets
        WHERE first_response_at < opened_at OR resolved_at < first_response_at
           OR satisfaction NOT BETWEEN 1 AND 5
    """
    assert _query(warehouse, bad) == [(0,)]


def test_customers_and_first_orders(warehouse):
    assert _query(warehouse, "SELECT count(*) FROM orders o JOIN customers c USING (customer_id) "
                             "WHERE o.ordered_at < c.signup_date OR o.region <> "
                             "(SELECT region FROM regions r WHERE r.region_id = c.region_id)") == [(0,)]
    assert _query(warehouse, "SELECT count(*) FROM (SELECT customer_id FROM orders WHERE is_first_order "
                             "GROUP BY 1 HAVING count(*) > 1)") == [(0,)]
