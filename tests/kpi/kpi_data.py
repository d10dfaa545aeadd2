"""A tiny warehouse with known rows, and hand sums over the same rows (plain Python)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from tests.helpers import bearer, make_domain, make_source, ok

MONTHS = range(1, 7)  # January to June 2026
ORDERS = [  # (order_id, region, customer_id, ordered_at, amount)
    *[(f"E{m}-{i}", "East", f"e{i % 2}", dt.datetime(2026, m, 3 + i, 10), 100 + 10 * i) for m in MONTHS for i in range(m)],
    *[(f"W{m}-{i}", "West", f"w{i}", dt.datetime(2026, m, 10 + i, 12), 50 * m) for m in MONTHS for i in range(3)],
]
TICKETS = [  # (ticket_id, region, opened_at, hours)
    (f"T{m}-{r}-{i}", r, dt.datetime(2026, m, 2 + i, 9), float(m + i + (2 if r == "West" else 0)))
    for m in MONTHS for r in ("East", "West") for i in range(2)
]


def in_months(moment: dt.datetime, months: list[int]) -> bool:
    return moment.year == 2026 and moment.month in months


def revenue(months: list[int], region: str | None = None) -> float:
    return float(sum(a for _, r, _, t, a in ORDERS if in_months(t, months) and region in (None, r)))


def order_count(months: list[int], region: str | None = None) -> int:
    return sum(1 for _, r, _, t, _ in ORDERS if in_months(t, months) and region in (None, r))


def buyers(months: list[int], region: str | None = None) -> int:
    return len({c for _, r, c, t, _ in ORDERS if in_months(t, months) and region in (None, r)})


def response_hours(months: list[int], region: str | None = None) -> float:
    hours = [h for _, r, t, h in TICKETS if in_months(t, months) and region in (None, r)]
    return sum(hours) / len(hours)


def build(path: Path) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE orders (order_id VARCHAR, region VARCHAR, customer_id VARCHAR, ordered_at TIMESTAMP, amount DECIMAL(12,2))")
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", ORDERS)
        conn.execute("CREATE TABLE tickets (ticket_id VARCHAR, region VARCHAR, opened_at TIMESTAMP, hours DOUBLE)")
        conn.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?)", TICKETS)


def _dataset(name: str, domain: str, time_column: str, columns: list[tuple[str, str]]) -> dict:
    cols = [{"name": n, "type": t, **({"dimension": True} if n == "region" else {})} for n, t in columns]
    return {"name": name, "domain": domain, "source": "shop", "table": name, "time_column": time_column, "columns": cols}


DATASETS = [
    _dataset("orders", "sales", "ordered_at", [("order_id", "string"), ("region", "string"), ("customer_id", "string"),
                                                ("ordered_at", "timestamp"), ("amount", "decimal")]),
    _dataset("tickets", "service", "opened_at", [("ticket_id", "string"), ("region", "string"), ("opened_at", "timestamp"), ("hours", "float")]),
]


def _metric(key: str, dataset: str, measure: str, **extra) -> dict:
    return {"key": key, "name": key, "domain": key.split(".")[0], "owner": "alice", "type": "simple",
            "dataset": dataset, "measure": measure, **extra}


METRICS = [
    _metric("sales.revenue", "orders", "SUM(amount)", unit="CNY", description="Order value.", caliber="sum of amount",
            level="strategic", review_frequency="monthly"),
    _metric("sales.orders", "orders", "COUNT(order_id)"),
    _metric("sales.buyers", "orders", "COUNT(DISTINCT customer_id)", description="Distinct buyers."),
    _metric("service.response_hours", "tickets", "AVG(hours)", direction="lower_is_better", unit="hours",
            thresholds={"bands": [{"at_least": 1.0, "label": "good"}, {"at_least": 0.8, "label": "watch"}], "otherwise": "bad"}),
]


async def register(client, admin_key: str, path: Path) -> None:
    """Both domains, the warehouse at `path` as source `shop`, its datasets and metrics (by the admin)."""
    for domain in ("sales", "service"):
        await make_domain(client, admin_key, domain)
    await make_source(client, admin_key, "shop", f"duckdb://{path}")
    for route, items in (("/v1/datasets", DATASETS), ("/v1/metrics", METRICS)):
        for item in items:
            await ok(await client.post(route, json=item, headers=bearer(admin_key)), 201)
