"""The query AST. One aggregate CTE per *group* (dataset, time column, metric filter,
cumulation) and per *instance* (the requested range, and each comparison's range shifted
back). Groups are combined with UNION ALL + GROUP BY on dimensions and metric_time, which
matches NULL keys and never fans out; the metric arithmetic sits on top.

Cumulative groups aggregate raw rows against a date spine (a recursive CTE), so every
period counts every row of its window, rows before time.start included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from app.compiler import nodes as n
from app.compiler.definitions import DatasetDef
from app.compiler.expressions import column_refs, parse_filter, parse_measure
from app.compiler.joins import Scope, qualify_measure, qualify_row_expr
from app.compiler.metrics import Cumulation
from app.compiler.nodes import alias, col
from app.compiler.render import Params, Slot
from app.compiler.request import Filter, MetricQuery
from app.compiler.time import GRAIN_STEPS, Step, add, as_date, series_spine, truncate
from app.errors import Invalid


@dataclass
class Group:
    dataset: DatasetDef
    time_column: str | None
    filter: str | None
    cumulation: Cumulation | None
    pointer: str
    measures: dict[int, str] = field(default_factory=dict)  # atom index -> measure text


@dataclass(frozen=True)
class Instance:
    name: str
    shift: tuple[tuple[Step, int], ...] = ()  # applied to time.start/end
    step: Step | None = None  # moves its metric_time forward onto the current period
    label: str | None = None


def _count_matches(measure: exp.Expression) -> exp.Expression:
    """COUNT(*) over a LEFT JOIN counts the unmatched spine row; count matched rows instead."""
    for star in list(measure.find_all(exp.Star)):
        star.replace(col("_t", "r"))
    return measure


class Builder:
    def __init__(self, request: MetricQuery, dialect: str, datasets: Mapping[str, DatasetDef], params: Params):
        self.request = request
        self.dialect = dialect
        self.datasets = datasets
        self.params = params
        self.grain = request.time.grain if request.time else None
        self.has_start = bool(request.time and request.time.start)
        self.has_end = bool(request.time and request.time.end)
        self.ctes: list[exp.CTE] = []
        self.recursive = False
        self.built: dict[tuple, str] = {}
        self.datasets_used: set[str] = set()

    # -- conditions ---------------------------------------------------------------------------
    def _date(self, which: str, inst: Instance) -> exp.Expression:
        return self.params(Slot(which, type="date", shift=inst.shift))

    def filter_condition(self, target: exp.Expression, f: Filter, i: int, type_: str) -> exp.Expression:
        def p(j: int) -> exp.Expression:
            return self.params(Slot("filter", i, j, type_))

        op = f.op
        simple = {"eq": exp.EQ, "ne": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
        if op in simple:
            return simple[op](this=target, expression=p(0))
        if op in ("in", "not_in"):
            cond = exp.In(this=target, expressions=[p(j) for j in range(len(f.values))])
            return cond if op == "in" else exp.Not(this=cond)
        if op == "between":
            return exp.Between(this=target, low=p(0), high=p(1))
        if op in ("is_null", "is_not_null"):
            cond = exp.Is(this=target, expression=exp.Null())
            return cond if op == "is_null" else exp.Not(this=cond)
        if type_ != "string":
            raise Invalid(f"op '{op}' needs a string field, '{f.dimension}' is {type_}",
                          pointer=f"/filters/{i}/op", code="INVALID_FILTER")
        position = exp.Anonymous(this="INSTR" if self.dialect == "sqlite" else "STRPOS", expressions=[target, p(0)])
        if op == "contains":
            return exp.GT(this=position, expression=exp.Literal.number(0))
        return exp.EQ(this=position, expression=exp.Literal.number(1))

    def row_conditions(self, g: Group, scope: Scope) -> list[exp.Expression]:
        conds = []
        if g.filter:
            conds.append(exp.Paren(this=qualify_row_expr(parse_filter(g.filter), scope, g.pointer + "/filter")))
        for i, f in enumerate(self.request.filters):
            if f.dimension == "metric_time":
                if self.grain is None:
                    tc = as_date(col(g.time_column, "t0", quoted=True), self.dialect)
                    conds.append(self.filter_condition(tc, f, i, "date"))
                continue
            target, type_ = scope.resolve(f.dimension, f"/filters/{i}")
            conds.append(self.filter_condition(target, f, i, type_))
        return conds

    # -- one group, one instance ---------------------------------------------------------------
    def group_cte(self, gi: int, g: Group, inst: Instance) -> str:
        key = (gi, inst.shift if (self.has_start or self.has_end) else ())
        if key not in self.built:
            name = f"g{gi}_{inst.name}"
            if g.cumulation is not None and self.grain:
                self._cumulative(name, g, inst)
            else:
                self._aggregate(name, g, inst)
            self.built[key] = name
        return self.built[key]

    def _dims(self, scope: Scope) -> list[exp.Expression]:
        return [scope.resolve(ref, f"/dimensions/{k}")[0] for k, ref in enumerate(self.request.dimensions)]

    def _aggregate(self, name: str, g: Group, inst: Instance) -> None:
        scope = Scope(g.dataset, self.datasets)
        dims = self._dims(scope)
        conds = self.row_conditions(g, scope)
        projections = [alias(d, f"_d{k}") for k, d in enumerate(dims)]
        if g.time_column:
            tc = col(g.time_column, "t0", quoted=True)
            if self.grain:
                projections.append(alias(truncate(tc, self.grain, self.dialect), "_mt"))
            conds += self._time_bounds(tc, g.cumulation, inst)
        for i, text in g.measures.items():
            measure = qualify_measure(parse_measure(text), g.dataset, g.pointer + "/measure")
            projections.append(alias(measure, f"_a{i}"))
        base, joins = scope.from_()
        keys = len(dims) + (1 if self.grain else 0)
        self.datasets_used |= scope.datasets_used()
        self.ctes.append(n.cte(name, n.select(projections, base, joins=joins, where=conds, group=keys)))

    def _time_bounds(self, tc: exp.Expression, cumulation: Cumulation | None, inst: Instance) -> list[exp.Expression]:
        conds = []
        if cumulation is None and self.has_start:
            conds.append(exp.GTE(this=tc, expression=self._date("start", inst)))
        if cumulation is not None and (cumulation.window or cumulation.grain_to_date):
            if not self.has_end:
                raise Invalid("a windowed cumulative metric without time.grain needs time.end",
                              pointer="/time", code="INVALID_QUERY")
            conds.append(exp.GTE(this=tc, expression=self._window_start(self._date("end", inst), cumulation, False)))
        if self.has_end:
            conds.append(exp.LT(this=tc, expression=self._date("end", inst)))
        return conds

    def _window_start(self, end: exp.Expression, c: Cumulation, aligned: bool) -> exp.Expression:
        """First instant counted by a window that ends (exclusive) at `end`."""
        if c.window:
            return add(end, c.window, self.dialect, sign=-1, aligned=aligned or c.window[1] == "day")
        last_day = add(end, (1, "day"), self.dialect, sign=-1)
        return truncate(last_day, c.grain_to_date, self.dialect)

    def _cumulative(self, name: str, g: Group, inst: Instance) -> None:
        scope = Scope(g.dataset, self.datasets)
        dims = self._dims(scope)
        conds = self.row_conditions(g, scope)
        tc = col(g.time_column, "t0", quoted=True)
        if self.has_end:
            conds.append(exp.LT(this=tc, expression=self._date("end", inst)))
        columns = sorted({c for m in g.measures.values() for _, c in column_refs(parse_measure(m))})
        rows = [alias(col(c, "t0", quoted=True), c, quoted=True) for c in columns]
        rows += [alias(d, f"_d{k}") for k, d in enumerate(dims)] + [alias(tc.copy(), "_t")]
        base, joins = scope.from_()
        self.datasets_used |= scope.datasets_used()
        self.ctes.append(n.cte(f"r_{name}", n.select(rows, base, joins=joins, where=conds)))
        self._spine(name, inst)

        step = GRAIN_STEPS[self.grain]
        aligned = self.grain in ("month", "quarter", "year")
        period_end = add(col("_mt", "s"), step, self.dialect, aligned=aligned or step[1] == "day")
        window = [exp.LT(this=col("_t", "r"), expression=period_end)]
        if g.cumulation.window or g.cumulation.grain_to_date:
            start = self._window_start(period_end.copy(), g.cumulation, aligned)
            window.append(exp.GTE(this=col("_t", "r"), expression=start))
        window += [exp.NullSafeEQ(this=col(f"_d{k}", "r"), expression=col(f"_d{k}", "c")) for k in range(len(dims))]
        out = [alias(col(f"_d{k}", "c"), f"_d{k}") for k in range(len(dims))]
        out.append(alias(col("_mt", "s"), "_mt"))
        out += [alias(_count_matches(qualify_measure(parse_measure(t), g.dataset, g.pointer + "/measure", alias="r")),
                      f"_a{i}") for i, t in g.measures.items()]
        joins = []
        if dims:
            distinct = n.select([col(f"_d{k}") for k in range(len(dims))], n.table(f"r_{name}"), distinct=True)
            self.ctes.append(n.cte(f"c_{name}", distinct))
            joins.append(n.cross_join(n.table(f"c_{name}", "c")))
        joins.append(n.left_join(n.table(f"r_{name}", "r"), n.and_(window)))
        self.ctes.append(n.cte(name, n.select(out, n.table(f"s_{name}", "s"), joins=joins, group=len(dims) + 1)))

    def _spine(self, name: str, inst: Instance) -> None:
        """`s_<name>(_mt)`: every period from the range (or the data) start to its end."""
        grain, d = self.grain, self.dialect
        lo = self._date("start", inst) if self.has_start else exp.Min(this=col("_t"))
        hi = add(self._date("end", inst), (1, "day"), d, sign=-1) if self.has_end else exp.Max(this=col("_t"))
        bounds_from = None if (self.has_start and self.has_end) else n.table(f"r_{name}")
        bounds = n.select([alias(truncate(lo, grain, d), "lo"), alias(truncate(hi, grain, d), "hi")], bounds_from)
        self.ctes.append(n.cte(f"b_{name}", bounds))
        step = GRAIN_STEPS[grain]
        if (series := series_spine(f"b_{name}", step, d)) is not None:
            self.ctes.append(n.cte(f"s_{name}", series))
            return
        aligned = grain in ("month", "quarter", "year") or step[1] == "day"
        following = add(col("_mt", "s"), step, d, aligned=aligned)
        anchor = n.select([alias(col("lo"), "_mt")], n.table(f"b_{name}"),
                          where=[exp.Not(this=exp.Is(this=col("lo"), expression=exp.Null()))])
        recursive = n.select([following], n.table(f"s_{name}", "s"), joins=[n.cross_join(n.table(f"b_{name}", "b"))],
                             where=[exp.LTE(this=following.copy(), expression=col("hi", "b"))])
        spine = exp.Union(this=anchor, expression=recursive, distinct=False)
        self.ctes.append(n.cte(f"s_{name}", spine, columns=["_mt"]))
        self.recursive = True
