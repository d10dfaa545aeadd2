"""Setting targets in bulk (atomic) and finding the target that applies to a period and scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Caller
from app.catalog import repository as catalog_repo
from app.catalog import service as catalog
from app.catalog.kinds import PARSED
from app.errors import AppError, ErrorCode, Invalid
from app.kpi import repository as repo
from app.kpi.definitions import TargetIn, scope_text
from app.kpi.kinds import TARGET
from app.kpi.periods import Period
from app.kpi.schemas import TargetBatch, TargetBatchOut, TargetSet


def _at(prefix: str, err: AppError) -> AppError:
    """The same error with its pointer placed under the batch item it came from."""
    if isinstance(err, Invalid) and isinstance(err.details, dict) and "pointer" in err.details:
        err.details = {**err.details, "pointer": prefix + err.details["pointer"]}
        err.message = f"{prefix}: {err.message}"
    return err


async def set_targets(session: AsyncSession, caller: Caller, batch: TargetBatch) -> TargetBatchOut:
    """Create or version every target of the batch in the caller's transaction; any failure fails all."""
    owners = {e.key: e.domain for e, _ in await catalog_repo.current_many(session, "metric", {t.metric for t in batch.targets})}
    seen: dict[str, int] = {}
    for i, target in enumerate(batch.targets):
        if target.metric not in owners:
            raise Invalid(f"metric '{target.metric}' is not registered", pointer=f"/targets/{i}/metric", code=ErrorCode.UNKNOWN_METRIC)
        if target.domain not in (None, owners[target.metric]):
            raise Invalid(f"a target of '{target.metric}' belongs to domain '{owners[target.metric]}'",
                          pointer=f"/targets/{i}/domain", code=ErrorCode.TARGET_DOMAIN_MISMATCH)
        if target.key in seen:
            raise Invalid(f"target '{target.key}' is also item {seen[target.key]}", pointer=f"/targets/{i}", code=ErrorCode.DUPLICATE_TARGET)
        seen[target.key] = i
        caller.require_edit(owners[target.metric])
    items = []
    async with audit.deferred(session):  # the chain lock only for the final append, as batches
        for i, target in enumerate(batch.targets):
            data = {**target.model_dump(mode="json"), "domain": owners[target.metric]}
            try:
                out, changed = await catalog.put(session, caller, TARGET, data, batch.change_note)
            except Invalid as err:
                raise _at(f"/targets/{i}", err) from None
            items.append(TargetSet(key=out.key, version=out.version, changed=changed))
    created = sum(1 for t in items if t.changed and t.version == 1)
    updated = sum(1 for t in items if t.changed and t.version > 1)
    return TargetBatchOut(items=items, created=created, updated=updated, unchanged=len(items) - created - updated)


def is_additive(definition: Any) -> bool:
    """Monthly targets may be summed into a quarter or year only for simple SUM or COUNT measures
    (not COUNT DISTINCT, averages or ratios): those are the metrics whose values add up over time."""
    if getattr(definition, "type", None) != "simple":
        return False
    try:
        tree = sqlglot.parse_one(definition.measure, read="duckdb")
    except sqlglot.errors.ParseError:
        return False
    return isinstance(tree, exp.Sum) or (isinstance(tree, exp.Count) and not isinstance(tree.this, exp.Distinct))


@dataclass(frozen=True)
class Found:
    value: float | None
    source: str | None  # month | quarter | year | sum_of_months


class TargetBook:
    """The targets of some metrics and years, looked up by (metric, period, kind, scope)."""

    def __init__(self, targets: list[TargetIn]) -> None:
        self._values = {(t.metric, t.period, t.kind, scope_text(t.scope)): t.value for t in targets}

    def find(self, metric: str, period: Period, scope: dict[str, Any], *, kind: str = "plan", additive: bool = False) -> Found:
        """The period's own target, else (additive metrics, quarters and years) the sum of its monthly
        targets when every month has one; else nothing."""
        where = scope_text(scope)
        own = self._values.get((metric, period.text, kind, where))
        if own is not None:
            return Found(own, period.grain)
        if additive and period.grain != "month":
            months = [self._values.get((metric, m.text, kind, where)) for m in period.months()]
            if all(v is not None for v in months):
                return Found(sum(months), "sum_of_months")
        return Found(None, None)


async def load_book(session: AsyncSession, metrics: set[str], years: set[int], as_of: dt.datetime | None = None) -> TargetBook:
    revisions = await repo.targets(session, [f"{m}|{y}" for m in metrics for y in years], as_of)
    return TargetBook([PARSED.get(TARGET, r.content_hash, r.content) for r in revisions])
