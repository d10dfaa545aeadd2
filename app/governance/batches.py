"""Definitions as code: a batch of datasets and metrics applied in one transaction, all or nothing.

Items are applied datasets first, then metrics, each in dependency order, with set semantics
(the file is the whole definition); an unchanged definition appends nothing, so re-runs are no-ops.
A failure names the item, its origin (file) and the JSON pointer inside it. The audit events are
appended together at the end, so the chain lock (shared by every writer) is held only for that
append; a dry run appends none and never takes it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Caller
from app.catalog import diff as differ
from app.catalog import duplicates
from app.catalog import repository as repo
from app.catalog import service as catalog
from app.catalog.kinds import KINDS
from app.errors import AppError, ErrorCode
from app.governance.schemas import BatchIn, BatchItem, BatchOut, BatchResult


def _locate(err: AppError, index: int, item: BatchItem, key: str | None) -> AppError:
    """Point an item's error at the item: /items/{i}/definition + the pointer inside it."""
    details = dict(err.details) if isinstance(err.details, dict) else ({"details": err.details} if err.details is not None else {})
    inner = details.get("pointer") or ""
    inner = inner if inner.startswith("/") or not inner else f"/{inner}"
    details.update(item=index, key=key, origin=item.origin, pointer=f"/items/{index}/definition{inner}", inner_pointer=inner)
    where = item.origin or f"item {index}"
    err.message = f"{where}{f' ({key})' if key else ''}: {err.message}"
    err.details = details
    return err


def _order(parsed: list[tuple[int, BatchItem, Any]]) -> list[tuple[int, BatchItem, Any]]:
    """Datasets before metrics; within a kind, what a definition references comes first."""
    ordered: list[tuple[int, BatchItem, Any]] = []
    for kind, refs in (("dataset", lambda d: [j.dataset for j in d.joins]), ("metric", lambda d: d.references())):
        pending = {getattr(d, KINDS[kind].key_field): (i, it, d) for i, it, d in parsed if it.kind == kind}
        done: set[str] = set()

        def visit(key: str, trail: set[str]) -> None:
            if key in done or key not in pending or key in trail:
                return
            for ref in refs(pending[key][2]):
                visit(ref, trail | {key})
            done.add(key)
            ordered.append(pending[key])

        for key in sorted(pending, key=lambda k: pending[k][0]):
            visit(key, set())
    return ordered


async def _apply_item(session: AsyncSession, caller: Caller, batch: BatchIn, index: int, item: BatchItem, definition: Any) -> BatchResult:
    kind = KINDS[item.kind]
    key = getattr(definition, kind.key_field)
    try:
        allow = duplicates.allow_reason(item.allow_duplicate or None, item.duplicate_reason)
        entity = await repo.entity(session, kind.name, key)
        before = (await repo.revision(session, entity.id, entity.current_version)).content if entity else None
        answer, changed = await catalog.put(session, caller, kind, item.definition, batch.change_note, allow_duplicate=allow)
    except AppError as err:
        raise _locate(err, index, item, key) from None
    action = "create" if before is None else ("update" if changed else "unchanged")
    changes = differ.diff(before, answer.definition) if action == "update" else []
    return BatchResult(kind=kind.name, key=key, action=action, version=answer.version, changes=changes)


async def apply(session: AsyncSession, caller: Caller, batch: BatchIn) -> BatchOut:
    parsed, seen = [], {}
    for index, item in enumerate(batch.items):
        key = item.definition.get(KINDS[item.kind].key_field)
        try:
            parsed.append((index, item, KINDS[item.kind].parse(item.definition)))
            if (item.kind, key) in seen:
                raise AppError(f"{item.kind} '{key}' appears twice in the batch (also item {seen[(item.kind, key)]})", code=ErrorCode.DUPLICATE_ITEM)
            seen[(item.kind, key)] = index
        except AppError as err:
            raise _locate(err, index, item, key if isinstance(key, str) else None) from None
    results: dict[int, BatchResult] = {}
    async with audit.deferred(session, append=not batch.dry_run):
        for index, item, definition in _order(parsed):
            results[index] = await _apply_item(session, caller, batch, index, item, definition)
    items = [results[i] for i in sorted(results)]
    count = {a: sum(1 for r in items if r.action == a) for a in ("create", "update", "unchanged")}
    return BatchOut(dry_run=batch.dry_run, created=count["create"], updated=count["update"], unchanged=count["unchanged"], items=items)
