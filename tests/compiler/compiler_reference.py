"""The expected answer of a query, computed in plain Python over the fixture rows.

It restates the contract independently of the SQL: simple metrics aggregate the rows of a
period; ratio/derived combine the aggregates; cumulative metrics count every row of the
window ending at the period's end (rows before time.start included) over a date spine;
comparisons evaluate the same query over the range shifted back and move it forward.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from compiler_data import CUSTOMERS, ORDERS, REGIONS, TICKETS

from app.query.schemas import QueryRequest

_cust = {c["customer_id"]: c for c in CUSTOMERS}
_reg = {r["region_id"]: r for r in REGIONS}


def _enrich(row: dict, time_key: str) -> dict:
    c = _cust.get(row.get("customer_id")) or {}
    r = _reg.get(c.get("region_id")) or {}
    t = row[time_key]
    out = {f"customers.{k}": c.get(k) for k in ("customer_id", "segment")}
    out.update({"regions.zone": r.get("zone"), "regions.name": r.get("name"), "_t": t,
                "_d": t.date() if isinstance(t, dt.datetime) else t})
    return {**row, **out}


ORDER_ROWS = [_enrich(o, "ordered_at") for o in ORDERS]
for o in ORDER_ROWS:
    o["orders.status"], o["orders.channel"], o["orders.quantity"] = o["status"], o["channel"], o["quantity"]
    o["orders.is_large"] = None if o["amount"] is None else o["amount"] >= 1000
    o["orders.channel_upper"] = None if o["channel"] is None else o["channel"].upper()
TICKET_ROWS = [_enrich(t, "opened_on") for t in TICKETS]


def _sum(vals):
    vals = [v for v in vals if v is not None]
    return sum(vals) if vals else None


def _avg(vals):
    vals = [v for v in vals if v is not None]
    return sum(vals) / len(vals) if vals else None


def _max(vals):
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def _paid(r):
    return r["status"] == "paid"


def _net(r):
    if r["status"] == "paid":
        return r["amount"]
    if r["status"] == "refunded":
        return None if r["amount"] is None else -r["amount"]
    return 0


SIMPLE = {  # key -> (rows, row filter, aggregate)
    "sales.gmv": (ORDER_ROWS, _paid, lambda rs: _sum(r["amount"] for r in rs)),
    "sales.orders": (ORDER_ROWS, None, len),
    "sales.customers": (ORDER_ROWS, None, lambda rs: len({r["customer_id"] for r in rs} - {None})),
    "sales.paid_count": (ORDER_ROWS, None, lambda rs: sum(1 for r in rs if _paid(r))),
    "sales.max_amount": (ORDER_ROWS, None, lambda rs: _max(r["amount"] for r in rs)),
    "sales.avg_amount": (ORDER_ROWS, None, lambda rs: _avg(r["amount"] for r in rs)),
    "sales.net": (ORDER_ROWS, None, lambda rs: _sum(_net(r) for r in rs)),
    "sales.enterprise_gmv": (ORDER_ROWS, lambda r: _paid(r) and r["customers.segment"] == "enterprise",
                             lambda rs: _sum(r["amount"] for r in rs)),
    "sales.north_gmv": (ORDER_ROWS, lambda r: r["regions.zone"] == "north", lambda rs: _sum(r["amount"] for r in rs)),
    "service.tickets": (TICKET_ROWS, None, len),
    "service.minutes": (TICKET_ROWS, None, lambda rs: _sum(r["minutes"] for r in rs)),
}


def div(a, b):
    if a is None or b is None or b == 0:
        return None
    return float(a) / float(b)


def _sub(a, b):
    return None if a is None or b is None else a - b


COMPOSED = {  # key -> (atoms, combine)
    "sales.aov": (["sales.gmv", "sales.paid_count"], lambda v: div(v[0], v[1])),
    "sales.gmv_per_order": (["sales.gmv", "sales.orders"], lambda v: div(v[0], v[1])),
    "sales.nested": (["sales.gmv", "sales.orders", "sales.paid_count"],
                     lambda v: None if div(v[0], v[1]) is None else
                     round(div(v[0], v[1]) * 2, 4) - (div(v[0], v[2]) or 0)),
    "service.minutes_per_order": (["service.minutes", "sales.orders"], lambda v: div(v[0], v[1])),
}
CUMULATIVE = {  # key -> (base, window (n, unit) | None, grain_to_date | None)
    "sales.gmv_cum": ("sales.gmv", None, None),
    "sales.gmv_7d": ("sales.gmv", (7, "day"), None),
    "sales.orders_1m": ("sales.orders", (1, "month"), None),
    "sales.gmv_ytd": ("sales.gmv", None, "year"),
    "sales.orders_mtd": ("sales.orders", None, "month"),
    "sales.customers_cum": ("sales.customers", None, None),
    "sales.aov_cum": ("sales.aov", None, None),
}


def add_months(d: dt.date, n: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + n
    y, m = divmod(m, 12)
    return d.replace(year=y, month=m + 1, day=min(d.day, calendar.monthrange(y, m + 1)[1]))


def shift(d: dt.date, step) -> dt.date:
    n, unit = step
    return d + dt.timedelta(days=n) if unit == "day" else add_months(d, n)


def trunc(d: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return d
    if grain == "week":
        return d - dt.timedelta(days=d.weekday())
    if grain == "month":
        return d.replace(day=1)
    if grain == "quarter":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return d.replace(month=1, day=1)


STEPS = {"day": (1, "day"), "week": (7, "day"), "month": (1, "month"), "quarter": (3, "month"), "year": (12, "month")}


def _match(value, f) -> bool:
    op, vs = f.op, f.values
    if op == "is_null":
        return value is None
    if op == "is_not_null":
        return value is not None
    if value is None:
        return False
    if isinstance(value, (dt.date, Decimal, int, float)) and isinstance(vs[0], str):
        vs = [dt.date.fromisoformat(v) if isinstance(value, dt.date) else float(v) for v in vs]
    return {
        "eq": lambda: value == vs[0], "ne": lambda: value != vs[0], "gt": lambda: value > vs[0],
        "gte": lambda: value >= vs[0], "lt": lambda: value < vs[0], "lte": lambda: value <= vs[0],
        "in": lambda: value in vs, "not_in": lambda: value not in vs,
        "between": lambda: vs[0] <= value <= vs[1],
        "contains": lambda: vs[0] in value, "starts_with": lambda: value.startswith(vs[0]),
    }[op]()


class Reference:
    def __init__(self, req: QueryRequest):
        self.req = req
        self.grain = req.time.grain if req.time else None
        self.start = req.time.start if req.time else None
        self.end = req.time.end if req.time else None

    def rows(self, key: str):
        rows, keep, _ = SIMPLE[key]
        out = []
        for r in rows:
            if keep and not keep(r):
                continue
            ok = True
            for f in self.req.filters:
                if f.dimension == "metric_time":
                    if self.grain is None and not _match(r["_d"], f):
                        ok = False
                elif not _match(r[f.dimension], f):
                    ok = False
            if ok:
                out.append(r)
        return out

    def dims(self, r) -> tuple:
        return tuple(r[d] for d in self.req.dimensions)

    def atom(self, key: str, start, end, cum=None) -> dict:
        agg = SIMPLE[key][2]
        rows = [r for r in self.rows(key) if end is None or r["_d"] < end]
        groups: dict[tuple, list] = {}
        if cum is None or self.grain is None:
            for r in rows:
                if cum is None and start is not None and r["_d"] < start:
                    continue
                if cum is not None and (cum[0] or cum[1]):
                    last = end - dt.timedelta(days=1)
                    lower = shift(end, (-cum[0][0], cum[0][1])) if cum[0] else trunc(last, cum[1])
                    if r["_t"] < _at(lower, r["_t"]):
                        continue
                mt = (trunc(r["_d"], self.grain),) if self.grain else ()
                groups.setdefault(mt + self.dims(r), []).append(r)
            if not self.grain and not self.req.dimensions:
                return {(): agg(groups.get((), []))}  # a total exists even over no rows
            return {k: agg(v) for k, v in groups.items()}
        if not rows and (start is None or end is None):
            return {}
        lo = trunc(start if start else min(r["_d"] for r in rows), self.grain)
        hi = trunc(end - dt.timedelta(days=1) if end else max(r["_d"] for r in rows), self.grain)
        combos = {self.dims(r) for r in rows} if self.req.dimensions else {()}
        out = {}
        p = lo
        while p <= hi:
            p_end = shift(p, STEPS[self.grain])
            lower = None
            if cum[0]:
                lower = shift(p_end, (-cum[0][0], cum[0][1]))
            elif cum[1]:
                lower = trunc(p_end - dt.timedelta(days=1), cum[1])
            for c in combos:
                sel = [r for r in rows if self.dims(r) == c and r["_t"] < _at(p_end, r["_t"])
                       and (lower is None or r["_t"] >= _at(lower, r["_t"]))]
                out[(p,) + c] = agg(sel)
            p = p_end
        return out

    def metric(self, key: str, start, end, cum=None) -> dict:
        if key in SIMPLE:
            return self.atom(key, start, end, cum)
        if key in CUMULATIVE:
            base, window, g2d = CUMULATIVE[key]
            return self.metric(base, start, end, (window, g2d))
        atoms, combine = COMPOSED[key]
        parts = [self.metric(a, start, end, cum) for a in atoms]
        keys = set().union(*parts)
        return {k: combine([p.get(k) for p in parts]) for k in keys}

    def instance(self, step=None) -> dict[str, dict]:
        start, end = self.start, self.end
        if step:
            back = (-step[0], step[1])
            start, end = start and shift(start, back), end and shift(end, back)
        out = {}
        for key in self.req.metrics:
            values = self.metric(key, start, end)
            if step:
                moved = {}
                for k, v in values.items():
                    fwd = shift(k[0], step)
                    if step == (12, "month") and self.grain == "day" and shift(fwd, (-12, "month")) != k[0]:
                        continue
                    moved[(fwd,) + k[1:]] = v
                values = moved
            out[key] = values
        return out

    def answer(self) -> list[dict]:
        current = self.instance()
        keys = set().union(*current.values())
        earlier = {c: self.instance(_comparison_step(c, self.grain)) for c in self.req.compare}
        rows = []
        for k in keys:
            if self.grain:
                mt_filters = [f for f in self.req.filters if f.dimension == "metric_time"]
                if not all(_match(k[0], f) for f in mt_filters):
                    continue
            row = {}
            if self.grain:
                row["metric_time"] = k[0]
            for d, v in zip(self.req.dimensions, k[1:] if self.grain else k):
                row[d] = v
            for m in self.req.metrics:
                row[m] = current[m].get(k)
                for c, inst in earlier.items():
                    prev = inst[m].get(k)
                    row[f"{m}__{c}"] = prev
                    row[f"{m}__{c}_change"] = div(_sub(row[m], prev), prev)
            rows.append(row)
        return rows


def _at(d: dt.date, like):
    return dt.datetime.combine(d, dt.time()) if isinstance(like, dt.datetime) else d


def _comparison_step(c: str, grain: str):
    if c == "previous_period":
        return STEPS[grain]
    return (364, "day") if grain == "week" else (12, "month")
