"""A deterministic fixture: regions <- customers <- orders, customers <- tickets, two years.

Generated in Python (random.Random(7)), loaded into DuckDB, SQLite and PostgreSQL, and
used by the reference evaluator in compiler_reference.py.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from pydantic import TypeAdapter

from app.compiler.definitions import DatasetDef, MetricDef
from app.compiler.plan import Definitions, VersionedDataset, VersionedMetric

START = dt.date(2024, 1, 1)
DAYS = 731  # through 2025-12-31
CHANNELS = ["web", "app", "store", "50%_off", "O'Brien \\ co", None]
STATUSES = ["paid", "paid", "paid", "refunded", "pending"]
ZERO_MONTH = (2025, 3)  # orders exist, none paid: paid_count is 0 there

REGIONS = [
    {"region_id": "r1", "name": "North", "zone": "north"},
    {"region_id": "r2", "name": "South", "zone": "south"},
    {"region_id": "r3", "name": "East", "zone": "north"},
    {"region_id": "r4", "name": "West", "zone": None},
]


def _build():
    rng = random.Random(7)
    customers = []
    for n in range(30):
        customers.append({
            "customer_id": f"c{n:02d}",
            "segment": rng.choice(["enterprise", "smb", "consumer", None]),
            "region_id": rng.choice(["r1", "r2", "r3", "r4", None]),
            "signup_date": START + dt.timedelta(days=rng.randrange(0, 400)),
        })
    orders = []
    for n in range(210):
        day = START + dt.timedelta(days=rng.randrange(0, DAYS))
        at = dt.datetime.combine(day, dt.time(rng.randrange(0, 24), rng.randrange(0, 60), rng.randrange(0, 60)))
        status = rng.choice(STATUSES)
        if (day.year, day.month) == ZERO_MONTH:
            status = "pending"
        amount = None if n % 17 == 5 else Decimal(rng.randrange(100, 250000)) / 100
        orders.append({
            "order_id": f"o{n:03d}",
            "customer_id": None if n % 23 == 3 else rng.choice(customers)["customer_id"],
            "ordered_at": at,
            "amount": amount,
            "status": status,
            "channel": rng.choice(CHANNELS),
            "quantity": rng.randrange(1, 6),
        })
    # pin boundary rows: first/last instants, a leap day, a week straddling a year end
    for n, at in enumerate([dt.datetime(2024, 1, 1, 0, 0, 0), dt.datetime(2025, 12, 31, 23, 59, 59),
                            dt.datetime(2024, 2, 29, 12, 0, 0), dt.datetime(2024, 12, 30, 8, 0, 0)]):
        orders.append({"order_id": f"p{n}", "customer_id": "c01", "ordered_at": at, "amount": Decimal("10.05"),
                       "status": "paid", "channel": "web", "quantity": 1})
    tickets = []
    for n in range(80):
        tickets.append({
            "ticket_id": f"t{n:03d}",
            "customer_id": rng.choice(customers)["customer_id"],
            "opened_on": START + dt.timedelta(days=rng.randrange(0, DAYS)),
            "minutes": None if n % 13 == 4 else rng.randrange(5, 300),
        })
    return customers, orders, tickets


CUSTOMERS, ORDERS, TICKETS = _build()

TABLES = {
    "regions": (["region_id", "name", "zone"], ["string", "string", "string"], REGIONS),
    "customers": (["customer_id", "segment", "region_id", "signup_date"], ["string", "string", "string", "date"], CUSTOMERS),
    "orders": (["order_id", "customer_id", "ordered_at", "amount", "status", "channel", "quantity"],
               ["string", "string", "timestamp", "decimal", "string", "string", "integer"], ORDERS),
    "tickets": (["ticket_id", "customer_id", "opened_on", "minutes"], ["string", "string", "date", "integer"], TICKETS),
}

DATASETS = [
    {"name": "regions", "domain": "sales", "source": "warehouse", "table": "regions", "primary_key": "region_id",
     "columns": [{"name": "region_id", "type": "string"}, {"name": "name", "type": "string", "dimension": True},
                 {"name": "zone", "type": "string", "dimension": True}]},
    {"name": "customers", "domain": "sales", "source": "warehouse", "table": "customers",
     "primary_key": "customer_id", "time_column": "signup_date",
     "columns": [{"name": "customer_id", "type": "string", "dimension": True},
                 {"name": "segment", "type": "string", "dimension": True},
                 {"name": "region_id", "type": "string"}, {"name": "signup_date", "type": "date"}],
     "joins": [{"dataset": "regions", "on": {"region_id": "region_id"}}]},
    {"name": "orders", "domain": "sales", "source": "warehouse", "table": "orders", "primary_key": "order_id",
     "time_column": "ordered_at",
     "columns": [{"name": "order_id", "type": "string"}, {"name": "customer_id", "type": "string"},
                 {"name": "ordered_at", "type": "timestamp"}, {"name": "amount", "type": "decimal"},
                 {"name": "status", "type": "string", "dimension": True},
                 {"name": "channel", "type": "string", "dimension": True},
                 {"name": "quantity", "type": "integer", "dimension": True}],
     "dimensions": [{"name": "is_large", "type": "boolean", "expr": "amount >= 1000"},
                    {"name": "channel_upper", "type": "string", "expr": "UPPER(channel)"}],
     "joins": [{"dataset": "customers", "on": {"customer_id": "customer_id"}}]},
    {"name": "tickets", "domain": "service", "source": "warehouse", "table": "tickets", "time_column": "opened_on",
     "columns": [{"name": "ticket_id", "type": "string"}, {"name": "customer_id", "type": "string"},
                 {"name": "opened_on", "type": "date"}, {"name": "minutes", "type": "integer"}],
     "joins": [{"dataset": "customers", "on": {"customer_id": "customer_id"}}]},
]


def _m(key, type_, **kw):
    return {"key": key, "name": key, "domain": key.split(".")[0], "owner": "alice", "type": type_, **kw}


METRICS = [
    _m("sales.gmv", "simple", dataset="orders", measure="SUM(amount)", filter="status = 'paid'", unit="CNY"),
    _m("sales.orders", "simple", dataset="orders", measure="COUNT(*)"),
    _m("sales.customers", "simple", dataset="orders", measure="COUNT(DISTINCT customer_id)"),
    _m("sales.paid_count", "simple", dataset="orders", measure="SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END)"),
    _m("sales.max_amount", "simple", dataset="orders", measure="MAX(amount)"),
    _m("sales.avg_amount", "simple", dataset="orders", measure="AVG(amount)"),
    _m("sales.net", "simple", dataset="orders",
       measure="SUM(CASE WHEN status = 'paid' THEN amount WHEN status = 'refunded' THEN -amount ELSE 0 END)"),
    _m("sales.enterprise_gmv", "simple", dataset="orders", measure="SUM(amount)",
       filter="status = 'paid' AND customers.segment = 'enterprise'"),
    _m("sales.north_gmv", "simple", dataset="orders", measure="SUM(amount)", filter="regions.zone = 'north'"),
    _m("sales.aov", "ratio", numerator="sales.gmv", denominator="sales.paid_count", unit="CNY"),
    _m("sales.gmv_per_order", "derived", expr="{sales.gmv} / {sales.orders}"),
    _m("sales.nested", "derived", expr="ROUND({sales.gmv_per_order} * 2, 4) - COALESCE({sales.aov}, 0)"),
    _m("sales.gmv_cum", "cumulative", base="sales.gmv"),
    _m("sales.gmv_7d", "cumulative", base="sales.gmv", window="7 days"),
    _m("sales.orders_1m", "cumulative", base="sales.orders", window="1 month"),
    _m("sales.gmv_ytd", "cumulative", base="sales.gmv", grain_to_date="year"),
    _m("sales.orders_mtd", "cumulative", base="sales.orders", grain_to_date="month"),
    _m("sales.customers_cum", "cumulative", base="sales.customers"),
    _m("sales.aov_cum", "cumulative", base="sales.aov"),
    _m("service.tickets", "simple", dataset="tickets", measure="COUNT(*)"),
    _m("service.minutes", "simple", dataset="tickets", measure="SUM(minutes)"),
    _m("service.minutes_per_order", "derived", expr="{service.minutes} / {sales.orders}"),
]

_metric = TypeAdapter(MetricDef)
METRIC_DEFS = {m["key"]: _metric.validate_python(m) for m in METRICS}
DATASET_DEFS = {d["name"]: DatasetDef.model_validate(d) for d in DATASETS}


def definitions(kind: str = "duckdb", version: int = 1) -> Definitions:
    return Definitions(
        metrics={k: VersionedMetric(m, version) for k, m in METRIC_DEFS.items()},
        datasets={k: VersionedDataset(d, version) for k, d in DATASET_DEFS.items()},
        sources={"warehouse": kind},
    )
