"""Metric trees: every requested metric becomes arithmetic over *atoms*, one aggregate of a
simple metric each (optionally cumulated). Ratios and derived metrics combine atoms after
each is aggregated at the query grain; cumulative wraps push their window onto the atoms.

Also the closures a caller must load before compiling: referenced metrics, then the
datasets those metrics use and the datasets their joins reach (two hops).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlglot import exp

from app.compiler.definitions import CumulativeMetric, DatasetDef, DerivedMetric, MetricDef, RatioMetric, SimpleMetric
from app.compiler.expressions import ExpressionError, parse_derived
from app.compiler.joins import MAX_HOPS
from app.compiler.nodes import dtype
from app.compiler.time import Step, window_step
from app.errors import Invalid


@dataclass(frozen=True)
class Cumulation:
    """A trailing window (n, unit), a grain-to-date period, or neither (all-time)."""

    window: Step | None = None
    grain_to_date: str | None = None


@dataclass(frozen=True)
class Atom:
    metric: str
    cumulation: Cumulation | None = None


def safe_div(left: exp.Expression, right: exp.Expression) -> exp.Expression:
    """left / right as a float, NULL when right is 0 or NULL."""
    num = exp.Cast(this=exp.Paren(this=left), to=dtype("double"))
    den = exp.Nullif(this=exp.Paren(this=right), expression=exp.Literal.number(0))
    return exp.Paren(this=exp.Div(this=num, expression=den, typed=False, safe=False))


class Resolver:
    """Builds metric trees over atom columns `_a<i>`; `atoms[i]` says what column i is."""

    def __init__(self, metrics: Mapping[str, MetricDef]) -> None:
        self.metrics = metrics
        self.atoms: list[Atom] = []
        self.used: set[str] = set()
        self.pointers: dict[Atom, str] = {}

    def tree(self, key: str, pointer: str, stack: tuple[str, ...] = (),
             cumulation: Cumulation | None = None) -> exp.Expression:
        if key in stack:
            raise Invalid(f"metric cycle: {' -> '.join(stack + (key,))}", pointer=pointer, code="METRIC_CYCLE")
        metric = self.metrics.get(key)
        if metric is None:
            where = f" (referenced by '{stack[-1]}')" if stack else ""
            raise Invalid(f"metric '{key}' is not registered{where}", pointer=pointer, code="UNKNOWN_METRIC")
        self.used.add(key)
        stack = stack + (key,)
        if isinstance(metric, SimpleMetric):
            atom = Atom(key, cumulation)
            if atom not in self.atoms:
                self.atoms.append(atom)
                self.pointers[atom] = pointer
            return exp.column(f"_a{self.atoms.index(atom)}")
        if isinstance(metric, RatioMetric):
            return safe_div(self.tree(metric.numerator, pointer, stack, cumulation),
                            self.tree(metric.denominator, pointer, stack, cumulation))
        if isinstance(metric, CumulativeMetric):
            if cumulation is not None:
                raise Invalid(f"cumulative metric '{key}' cannot be cumulated again", pointer=pointer,
                              code="NESTED_CUMULATIVE")
            window = window_step(metric.window) if metric.window else None
            return self.tree(metric.base, pointer, stack, Cumulation(window, metric.grain_to_date))
        return self._derived(metric, pointer, stack, cumulation)

    def _derived(self, metric: DerivedMetric, pointer: str, stack: tuple[str, ...],
                 cumulation: Cumulation | None) -> exp.Expression:
        try:
            parsed = parse_derived(metric.expr)
        except ExpressionError as err:
            raise Invalid(f"metric '{metric.key}': {err}", pointer=pointer, code=err.code) from err

        def build(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                return exp.Paren(this=self.tree(node.name, pointer, stack, cumulation))
            if isinstance(node, exp.Div):
                return safe_div(build(node.this), build(node.expression))
            copy = node.copy()
            for name, value in node.args.items():
                if isinstance(value, exp.Expression):
                    copy.set(name, build(value))
                elif isinstance(value, list):
                    copy.set(name, [build(v) if isinstance(v, exp.Expression) else v for v in value])
            return copy

        return exp.Paren(this=build(parsed))


def missing_metrics(keys: Iterable[str], loaded: Mapping[str, MetricDef]) -> set[str]:
    """Keys still to load: requested or referenced (transitively) but not in `loaded`."""
    missing: set[str] = set()
    todo, seen = list(keys), set()
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        metric = loaded.get(key)
        if metric is None:
            missing.add(key)
        else:
            todo.extend(metric.references())
    return missing


def missing_datasets(metrics: Mapping[str, MetricDef], loaded: Mapping[str, DatasetDef]) -> set[str]:
    """Dataset names still to load: used by simple metrics, or reached from them by joins (two hops)."""
    missing: set[str] = set()
    frontier = {(m.dataset, 0) for m in metrics.values() if isinstance(m, SimpleMetric)}
    seen: set[str] = set()
    while frontier:
        name, hops = frontier.pop()
        if name in seen:
            continue
        seen.add(name)
        ds = loaded.get(name)
        if ds is None:
            missing.add(name)
        elif hops < MAX_HOPS:
            frontier |= {(j.dataset, hops + 1) for j in ds.joins}
    return missing


def metric_closure(keys: Iterable[str], load: Callable[[set[str]], Mapping[str, MetricDef]]) -> dict[str, MetricDef]:
    """Load the requested metrics and everything they reference, one `load` call per level."""
    keys = list(keys)
    loaded: dict[str, MetricDef] = {}
    asked: set[str] = set()
    while need := missing_metrics(keys, loaded) - asked:
        asked |= need
        loaded.update(load(need))
    return loaded


def dataset_closure(metrics: Mapping[str, MetricDef],
                    load: Callable[[set[str]], Mapping[str, DatasetDef]]) -> dict[str, DatasetDef]:
    """Load the datasets the metrics use plus those their joins reach, one `load` call per hop."""
    loaded: dict[str, DatasetDef] = {}
    asked: set[str] = set()
    while need := missing_datasets(metrics, loaded) - asked:
        asked |= need
        loaded.update(load(need))
    return loaded
