"""The demo warehouse: a deterministic DuckDB file of a retail business, 2025-01-01 … 2026-12-31.

Generated entirely in DuckDB SQL from range() and hash()-based pseudo-randomness, so it
builds in seconds and the same seed always gives the same rows. It is written to a
temporary file and renamed into place, so a file at `path` is always complete.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb

CUSTOMERS = 20_000
ORDERS = 150_000
TICKETS = 30_000

# rnd(key, salt) is uniform in [0, 1); z(key, salt) is roughly standard normal (Irwin-Hall of 4).
_MACROS = """
CREATE TEMP MACRO rnd(k, salt) AS (hash(k, salt, {seed}) % 1000003)::DOUBLE / 1000003;
CREATE TEMP MACRO z(k, salt) AS
    (rnd(k, salt || '1') + rnd(k, salt || '2') + rnd(k, salt || '3') + rnd(k, salt || '4') - 2) * sqrt(3);
CREATE TEMP MACRO pick(arr, u) AS arr[1 + least(floor(u * len(arr))::INTEGER, len(arr) - 1)];
"""

_REGIONS = """
CREATE TABLE regions AS SELECT * FROM (VALUES
    (1, 'East', 'Chen Jing'), (2, 'North', 'Wang Lei'), (3, 'South', 'Liu Yang'),
    (4, 'West', 'Zhao Min'), (5, 'Central', 'Sun Hao')
) r(region_id, region, manager);
"""

# Customers are numbered in signup order, so "the first N customers" are those signed up by a day.
_CUSTOMERS = """
CREATE TEMP TABLE c0 AS
SELECT range AS n,
       DATE '2024-01-01' + floor(1096 * sqrt((range + 0.5) / {customers}))::INTEGER AS signup_date,
       rnd(range, 'region') AS ur, rnd(range, 'segment') AS us
FROM range({customers});

CREATE TABLE customers AS
SELECT printf('C%06d', n + 1) AS customer_id,
       CASE WHEN segment = 'Consumer'
            THEN pick(['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Zhao', 'Huang', 'Zhou', 'Wu', 'Xu', 'Sun'], rnd(n, 'sur'))
                 || ' ' || pick(['Wei', 'Fang', 'Na', 'Min', 'Jing', 'Lei', 'Qiang', 'Yan', 'Jie', 'Tao', 'Hui', 'Ling'], rnd(n, 'given'))
            ELSE pick(['Hengtai', 'Jinyuan', 'Huaxin', 'Dingsheng', 'Ruifeng', 'Anda', 'Kaixuan', 'Tianyi'], rnd(n, 'co'))
                 || ' ' || pick(['Trading', 'Technology', 'Logistics', 'Foods', 'Home', 'Retail'], rnd(n, 'trade'))
                 || CASE segment WHEN 'Corporate' THEN ' Group' ELSE ' Co.' END
       END AS name,
       region_id, segment, signup_date, 'China' AS country,
       pick(CASE region_id WHEN 1 THEN ['Shanghai', 'Hangzhou', 'Nanjing', 'Suzhou'] WHEN 2 THEN ['Beijing', 'Tianjin', 'Shijiazhuang']
                           WHEN 3 THEN ['Guangzhou', 'Shenzhen', 'Xiamen'] WHEN 4 THEN ['Chengdu', 'Chongqing', 'Xi''an']
                           ELSE ['Wuhan', 'Changsha', 'Zhengzhou'] END, rnd(n, 'city')) AS city
FROM (SELECT *, CASE WHEN ur < 0.30 THEN 1 WHEN ur < 0.50 THEN 2 WHEN ur < 0.75 THEN 3 WHEN ur < 0.90 THEN 4 ELSE 5 END AS region_id,
             CASE WHEN us < 0.62 THEN 'Consumer' WHEN us < 0.87 THEN 'SMB' ELSE 'Corporate' END AS segment
      FROM c0)
ORDER BY n;

-- Buying propensity: a third of customers buy about once, the rest follow a heavy tail.
CREATE TEMP TABLE cw AS
SELECT c0.n, c.customer_id, c.region_id, r.region, c.segment, c.signup_date,
       sum(round(1000 * CASE WHEN rnd(c0.n, 'loyal') < 0.35 THEN 0.05 ELSE pow(-ln(1 - rnd(c0.n, 'w')), 1.6) END)::BIGINT)
           OVER (ORDER BY c0.n) AS cum_w
FROM c0 JOIN customers c ON c.customer_id = printf('C%06d', c0.n + 1) JOIN regions r USING (region_id);
"""

# One row per calendar day: the expected volume, with growth, seasonality and promotions.
_DAYS = """
CREATE TEMP TABLE days AS
WITH d AS (
    SELECT range AS d, DATE '2025-01-01' + range::INTEGER AS day FROM range(730)
), w AS (
    SELECT d, day,
           round(1e6 * exp(0.30 * d / 365)
                 * [0.85, 0.72, 0.95, 0.95, 1.00, 1.12, 0.95, 0.95, 1.00, 1.05, 1.30, 1.22][month(day)]
                 * CASE WHEN isodow(day) >= 6 THEN 1.15 ELSE 0.95 END
                 * (1 + 0.3 * (rnd(d, 'noise') - 0.5)))::BIGINT AS w,
           CASE strftime(day, '%m-%d') WHEN '11-11' THEN 8 WHEN '06-18' THEN 5 WHEN '12-12' THEN 4 ELSE 2 END AS promo
    FROM d
)
SELECT w.d, w.day, w.promo > 2 AS is_promo,
       round({orders} * w.w * w.promo / sum(w.w * w.promo) OVER ())::INTEGER AS n_orders,
       round({tickets} * w.w * (lag(w.promo, 2, 2) OVER (ORDER BY w.d) + 2) / sum(w.w * 4) OVER ())::INTEGER AS n_tickets,
       (SELECT max(n) + 1 FROM cw WHERE cw.signup_date <= w.day) AS eligible,
       (SELECT max(cum_w) FROM cw WHERE cw.signup_date <= w.day) AS eligible_w
FROM w;
"""

# Orders: slots per day, each assigned to an eligible customer by propensity (an ASOF lookup).
# Customers who signed up before 2025 bought before the window, so none of their orders is a first.
_ORDERS = """
CREATE TEMP TABLE o0 AS
SELECT s.*, cw.customer_id, cw.region, cw.segment, cw.signup_date
FROM (
    SELECT d, day, is_promo, k, d * 10000 + k AS key,
           rnd(d * 10000 + k, 'cust') * eligible_w AS target
    FROM (SELECT *, unnest(range(n_orders)) AS k FROM days)
) s ASOF JOIN cw ON s.target <= cw.cum_w;

CREATE TEMP TABLE o1 AS
SELECT *,
       day + to_seconds(pick([0, 7, 8, 9, 10, 10, 11, 11, 12, 13, 14, 15, 16, 17, 19, 20, 20, 21, 21, 22, 23], rnd(key, 'h')) * 3600
                        + floor(rnd(key, 's') * 3600)::INTEGER) AS ordered_at,
       CASE WHEN rnd(key, 'ch') < (CASE WHEN is_promo THEN 0.85 ELSE 0.55 + 0.15 * d / 730 END) THEN 'online' ELSE 'store' END AS channel,
       round(CASE segment WHEN 'Corporate' THEN 1900 WHEN 'SMB' THEN 620 ELSE 175 END * exp(0.75 * z(key, 'amt')), 2) AS gross
FROM o0;

CREATE TABLE orders AS
WITH p AS (
    SELECT *, CASE WHEN rnd(key, 'st') < 0.04 THEN 'cancelled'
                   WHEN rnd(key, 'st') < (CASE channel WHEN 'online' THEN 0.10 ELSE 0.07 END) THEN 'refunded'
                   ELSE 'paid' END AS status,
           least(greatest(gross * (CASE channel WHEN 'store' THEN 1.1 ELSE 1.0 END), 9.9), 99999)::DECIMAL(12, 2) AS list_amount,
           CASE WHEN rnd(key, 'disc') < (CASE WHEN is_promo THEN 0.75 ELSE 0.28 END)
                THEN 0.05 + 0.15 * rnd(key, 'dpct') ELSE 0 END AS dpct
    FROM o1
)
SELECT printf('O%07d', row_number() OVER (ORDER BY ordered_at, key)) AS order_id, customer_id, region, channel, status,
       ordered_at, (list_amount - round(list_amount * dpct, 2))::DECIMAL(12, 2) AS amount,
       round(list_amount * dpct, 2)::DECIMAL(12, 2) AS discount,
       status = 'paid' AND signup_date >= DATE '2025-01-01'
           AND row_number() OVER (PARTITION BY customer_id, status = 'paid' ORDER BY ordered_at, key) = 1 AS is_first_order
FROM p
ORDER BY ordered_at, key;
"""

# Payments: most paid orders settle at once, some in two instalments, some partly or late.
_PAYMENTS = """
CREATE TABLE order_payments AS
WITH o AS (
    SELECT o.order_id, o.ordered_at, o.amount, c.segment, o.channel, hash(o.order_id, {seed}) AS key
    FROM orders o JOIN customers c USING (customer_id) WHERE o.status = 'paid'
), plan AS (
    SELECT *, rnd(key, 'plan') AS up,
           CASE WHEN segment <> 'Consumer' AND rnd(key, 'late') < 0.45 THEN 7 + floor(68 * rnd(key, 'lag'))::INTEGER
                WHEN rnd(key, 'late') < 0.03 THEN 3 + floor(40 * rnd(key, 'lag'))::INTEGER ELSE 0 END AS late_days,
           CASE channel WHEN 'store' THEN 10 + floor(290 * rnd(key, 'sec'))::INTEGER
                ELSE 30 + floor(1800 * rnd(key, 'sec'))::INTEGER END AS lag_seconds
    FROM o
), p AS (
    SELECT order_id, 1 AS seq, ordered_at + to_days(late_days) + to_seconds(lag_seconds) AS paid_at,
           CASE WHEN up < 0.05 THEN round(amount * (0.3 + 0.6 * rnd(key, 'part')), 2)
                WHEN up < 0.12 THEN round(amount * (0.3 + 0.4 * rnd(key, 'inst')), 2)
                ELSE amount END AS amount
    FROM plan WHERE up >= 0.03
    UNION ALL
    SELECT order_id, 2, ordered_at + to_days(late_days + 15 + floor(30 * rnd(key, 'gap'))::INTEGER) + to_seconds(lag_seconds),
           amount - round(amount * (0.3 + 0.4 * rnd(key, 'inst')), 2)
    FROM plan WHERE up >= 0.05 AND up < 0.12
)
SELECT printf('P%07d', row_number() OVER (ORDER BY paid_at, order_id, seq)) AS payment_id, order_id, paid_at,
       amount::DECIMAL(12, 2) AS amount
FROM p
WHERE paid_at < TIMESTAMP '2027-01-01' AND amount > 0
ORDER BY paid_at, order_id, seq;
"""

# Tickets: volume follows orders (with a lag after promotions); responses get faster over time.
_TICKETS = """
CREATE TEMP TABLE t0 AS
SELECT s.*, cw.customer_id, cw.region, cw.segment,
       pick(['delivery', 'delivery', 'delivery', 'delivery', 'delivery', 'product_quality', 'product_quality', 'product_quality',
             'product_quality', 'returns', 'returns', 'returns', 'returns', 'billing', 'billing', 'billing', 'account', 'account',
             'other', 'other'], rnd(key, 'cat')) AS category
FROM (
    SELECT d, day, d * 10000 + k AS key, rnd(d * 10000 + k, 'tcust') * eligible_w AS target
    FROM (SELECT *, unnest(range(n_tickets)) AS k FROM days)
) s ASOF JOIN cw ON s.target <= cw.cum_w;

CREATE TABLE tickets AS
WITH t AS (
    SELECT *, day + to_seconds((8 * 3600 + floor(rnd(key, 'open') * 14 * 3600))::INTEGER) AS opened_at,
           rnd(key, 'complaint') < CASE category WHEN 'product_quality' THEN 0.35 WHEN 'delivery' THEN 0.30
                                      WHEN 'billing' THEN 0.20 WHEN 'returns' THEN 0.15 WHEN 'account' THEN 0.05 ELSE 0.10 END
               AS is_complaint,
           greatest(1, round(85 * CASE region WHEN 'Central' THEN 1.6 WHEN 'West' THEN 1.25 WHEN 'East' THEN 0.85 ELSE 1.0 END
                             * (1 - 0.35 * d / 730) * CASE WHEN isodow(day) >= 6 THEN 1.5 ELSE 1.0 END
                             * exp(0.9 * z(key, 'resp'))))::INTEGER AS response_minutes
    FROM t0
), r AS (
    SELECT *, opened_at + to_minutes(response_minutes) AS first_response_at,
           CASE WHEN rnd(key, 'open_left') < 0.02 THEN NULL
                ELSE opened_at + to_minutes(response_minutes
                     + greatest(5, round(60 * CASE WHEN is_complaint THEN 18 ELSE 5 END * exp(0.8 * z(key, 'fix'))))::INTEGER)
           END AS resolved_at
    FROM t
)
SELECT printf('T%06d', row_number() OVER (ORDER BY opened_at, key)) AS ticket_id, customer_id, region, opened_at,
       first_response_at, CASE WHEN resolved_at < TIMESTAMP '2027-01-01' THEN resolved_at END AS resolved_at,
       category, is_complaint,
       CASE WHEN rnd(key, 'surveyed') < 0.55 THEN
           least(5, greatest(1, round(4.4 - 0.9 * is_complaint::INTEGER - 0.25 * ln(1 + response_minutes / 60.0)
                                      + 0.8 * z(key, 'csat'))))::INTEGER
       END AS satisfaction
FROM r
ORDER BY opened_at, key;
"""

TABLES = ("regions", "customers", "orders", "order_payments", "tickets")


def build_warehouse(path: Path, *, seed: int = 7) -> None:
    """Build the demo warehouse at `path` unless it is already there."""
    path = Path(path)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with duckdb.connect(str(tmp)) as conn:
            _generate(conn, int(seed))
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)


def _generate(conn: duckdb.DuckDBPyConnection, seed: int) -> None:
    sizes = {"seed": seed, "customers": CUSTOMERS, "orders": ORDERS, "tickets": TICKETS}
    for script in (_MACROS, _REGIONS, _CUSTOMERS, _DAYS, _ORDERS, _PAYMENTS, _TICKETS):
        conn.execute(script.format(**sizes))
    conn.execute("CHECKPOINT")
