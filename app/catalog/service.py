"""Rules of the catalog: who may change what, validation, versions, audit, time travel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import service as auth
from app.auth.principal import Caller
from app.canonical import sha256_of
from app.catalog import diff as differ
from app.catalog import duplicates, lifecycle
from app.catalog import repository as repo
from app.catalog.fingerprint import fingerprint
from app.catalog.kinds import DATASET, METRIC, PARSED, Kind
from app.catalog.models import Entity, Revision
from app.catalog.schemas import DiffOut, EntityOut, VersionOut
from app.compiler import validate
from app.compiler.definitions import DatasetDef
from app.db import utcnow
from app.errors import Conflict, ErrorCode, Forbidden, Invalid, NotFound, PreconditionFailed, PreconditionRequired
from app.pagination import decode_cursor, next_cursor
from app.sources.service import source_exists

MAX_REFERENCE_DEPTH = 20


@dataclass(frozen=True)
class Loaded:
    """A definition as the compiler needs it: parsed, with its version and domain."""

    definition: Any
    version: int
    domain: str


MAX_NOTE = 2000


def check_note(note: object) -> str:
    """A change note: why a change was made, kept with the version and in the audit log."""
    if note is None:
        return ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise Invalid(f"change_note is a string of at most {MAX_NOTE} characters", pointer="/change_note", code=ErrorCode.INVALID_FIELD)
    return note


async def current_many(session: AsyncSession, kind: Kind, keys: set[str]) -> dict[str, EntityOut]:
    """The current versions of several entities in one query (for batch loaders)."""
    return {e.key: _out(kind, e, r) for e, r in await repo.current_many(session, kind.name, keys)}


def etag(version: int) -> str:
    return f'"{version}"'


def _out(kind: Kind, entity: Entity, revision: Revision) -> EntityOut:
    return kind.out(
        kind=kind.name, key=entity.key, domain=entity.domain, status=entity.status,
        version=revision.version, latest_version=entity.current_version, author=revision.author,
        change_note=revision.change_note, created_at=revision.created_at,
        content_hash=revision.content_hash, definition=revision.content,
    )


def _index_fields(kind: Kind, definition: Any) -> dict[str, Any]:
    """The identity-row fields the catalog filters and searches on."""
    words = [getattr(definition, kind.key_field), getattr(definition, "name", ""), definition.description]
    if kind is METRIC:
        words += [*definition.synonyms, definition.caliber]
    return {
        "domain": definition.domain,
        "owner": definition.owner,
        "level": getattr(definition, "level", None),
        "tags": "|" + "|".join(getattr(definition, "tags", [])) + "|",
        "search_text": "\n".join(w for w in words if w).casefold(),
        "fingerprint": fingerprint(definition) if kind is METRIC else None,
    }


# --- validation ----------------------------------------------------------------------------


async def metric_closure(session: AsyncSession, keys: set[str], *, as_of: dt.datetime | None = None) -> dict[str, Loaded]:
    """The metrics named and every metric they reference, transitively."""
    found: dict[str, Loaded] = {}
    wanted = set(keys)
    for _ in range(MAX_REFERENCE_DEPTH):
        wanted -= set(found)
        if not wanted:
            break
        rows = await (repo.as_of_many(session, "metric", wanted, as_of) if as_of else repo.current_many(session, "metric", wanted))
        if not rows:
            break
        next_wanted: set[str] = set()
        for entity, revision in rows:
            definition = PARSED.get(METRIC, revision.content_hash, revision.content)
            found[entity.key] = Loaded(definition, revision.version, entity.domain)
            next_wanted.update(definition.references())
        wanted = next_wanted
    return found


async def dataset_closure(session: AsyncSession, names: set[str], *, as_of: dt.datetime | None = None) -> dict[str, Loaded]:
    """The datasets named and those their joins reach, two hops out."""
    found: dict[str, Loaded] = {}
    wanted = set(names)
    for _ in range(3):
        wanted -= set(found)
        if not wanted:
            break
        rows = await (repo.as_of_many(session, "dataset", wanted, as_of) if as_of else repo.current_many(session, "dataset", wanted))
        wanted = set()
        for entity, revision in rows:
            definition = PARSED.get(DATASET, revision.content_hash, revision.content)
            found[entity.key] = Loaded(definition, revision.version, entity.domain)
            wanted.update(j.dataset for j in definition.joins)
    return found


async def check_references(session: AsyncSession, caller: Caller, kind: Kind, definition: Any) -> None:
    """The definition's references resolve and validate, and its author may read each of them:
    a domain's definitions cannot be used to read another domain's values."""
    await auth.require_domain(session, definition.domain, "/domain")
    if kind.check is not None:
        await kind.check(session, definition)
        return
    if kind is DATASET:
        if not await source_exists(session, definition.source):
            raise Invalid(f"source '{definition.source}' is not registered", pointer="/source", code=ErrorCode.UNKNOWN_SOURCE)
        joined = await dataset_closure(session, {j.dataset for j in definition.joins})
        for i, join in enumerate(definition.joins):
            if join.dataset in joined:
                _require_reference(caller, "dataset", join.dataset, joined[join.dataset].domain, f"/joins/{i}/dataset")
        await _require_table_readable(session, caller, definition)
        validate.validate_dataset(definition, {k: v.definition for k, v in joined.items()})
        return
    metrics = await metric_closure(session, set(definition.references()))
    for pointer, ref in validate.reference_fields(definition):
        if ref in metrics and ref != definition.key:
            _require_reference(caller, "metric", ref, metrics[ref].domain, pointer)
    metric_defs = {k: v.definition for k, v in metrics.items() if k != definition.key}
    dataset_names = {m.dataset for m in [definition, *metric_defs.values()] if getattr(m, "dataset", None)}
    loaded = await dataset_closure(session, dataset_names)
    if getattr(definition, "dataset", None) in loaded:
        _require_reference(caller, "dataset", definition.dataset, loaded[definition.dataset].domain, "/dataset")
    validate.validate_metric(definition, {k: v.definition for k, v in loaded.items()}, metric_defs)


def _require_reference(caller: Caller, kind: str, key: str, domain: str, pointer: str) -> None:
    """403 when the author cannot read what the definition references (named: the author named it)."""
    if not caller.can_read(domain):
        raise Forbidden(f"{kind} '{key}' belongs to a domain you cannot read; a definition may only use what its author may read",
                        code=ErrorCode.REFERENCE_FORBIDDEN, details={"pointer": pointer})


async def _require_table_readable(session: AsyncSession, caller: Caller, definition: DatasetDef) -> None:
    """A table already registered by another domain's dataset is that domain's data: only its readers may
    register another dataset over it (the other domain is not named)."""
    for entity, revision in await repo.current_of_kinds(session, ["dataset"]):
        if entity.key == definition.name or entity.domain == definition.domain or caller.can_read(entity.domain):
            continue
        other = PARSED.get(DATASET, revision.content_hash, revision.content)
        if other.source == definition.source and other.table.casefold() == definition.table.casefold():
            raise Forbidden("this table belongs to a domain you cannot read", code=ErrorCode.REFERENCE_FORBIDDEN, details={"pointer": "/table"})


# --- writes --------------------------------------------------------------------------------


def _review_required_error(kind: Kind, key: str) -> Conflict:
    return Conflict(
        f"changes to {kind.name} '{key}' need review in its domain: create it as a draft and submit it, or PATCH it through REST to propose",
        code=ErrorCode.REVIEW_REQUIRED,
    )


async def _duplicates(session: AsyncSession, caller: Caller, kind: Kind, definition: Any, allow_duplicate: str | None) -> dict[str, Any]:
    """Refuse an equivalent of an existing metric unless allowed; answers what to add to the audit event."""
    return await duplicates.refuse(session, caller, definition, allow_duplicate) if kind is METRIC else {}


async def create(
    session: AsyncSession, caller: Caller, kind: Kind, data: Any, change_note: str = "",
    *, status: str = lifecycle.PUBLISHED, allow_duplicate: str | None = None,
) -> EntityOut:
    """Version 1. `status` is draft or published (request-level, not content); drafts are edited freely."""
    definition = kind.parse(data)
    caller.require_edit(definition.domain)
    key = getattr(definition, kind.key_field)
    if status not in (lifecycle.PUBLISHED, lifecycle.DRAFT) or (status == lifecycle.DRAFT and kind.name not in lifecycle.GOVERNED_KINDS):
        raise Invalid("status is 'draft' or 'published' (datasets and metrics only)", pointer="/status", code=ErrorCode.INVALID_STATUS)
    if await repo.entity(session, kind.name, key):
        raise Conflict(f"{kind.name} '{key}' exists; change it with PATCH", code=ErrorCode.exists(kind.name))
    if status == lifecycle.PUBLISHED and kind.name in lifecycle.GOVERNED_KINDS and await lifecycle.review_required(session, definition.domain):
        raise _review_required_error(kind, key)
    await check_references(session, caller, kind, definition)
    extra = await _duplicates(session, caller, kind, definition, allow_duplicate)
    if status != lifecycle.PUBLISHED:
        extra["status"] = status
    content = kind.dump(definition)
    now = utcnow()
    entity = Entity(kind=kind.name, key=key, status=status, current_version=1, created_at=now, updated_at=now, **_index_fields(kind, definition))
    session.add(entity)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"{kind.name} '{key}' exists; change it with PATCH", code=ErrorCode.exists(kind.name)) from None
    revision = Revision(entity_id=entity.id, version=1, content=content, content_hash=sha256_of(content), author=caller.name, change_note=change_note, created_at=now)
    session.add(revision)
    await session.flush()
    await audit.record(
        session, actor=caller.name, action=f"{kind.name}.create", entity_kind=kind.name, entity_key=key,
        after={"version": 1, "definition": content, **extra}, reason=change_note,
    )
    return _out(kind, entity, revision)


def _merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7386) over the top-level fields: null removes a field."""
    merged = dict(current)
    for field, value in patch.items():
        if value is None:
            merged.pop(field, None)
        else:
            merged[field] = value
    return merged


def _check_if_match(if_match: str | None, current: int) -> None:
    if not if_match or if_match.strip() == "*":
        raise PreconditionRequired("send If-Match with the ETag of the version you changed", code=ErrorCode.IF_MATCH_REQUIRED)
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if etag(current) not in tags:
        raise PreconditionFailed(
            f"the definition changed since you read it; the current version is {current}",
            code=ErrorCode.STALE_VERSION, details={"current_version": current, "etag": etag(current)},
        )


async def prepare_update(
    session: AsyncSession, caller: Caller, kind: Kind, key: str, patch: Any, *, if_match: str | None
) -> tuple[Entity, Revision, Any]:
    """Lock the entity, check rights, If-Match and lifecycle, and parse the merged definition."""
    if not isinstance(patch, dict):
        raise Invalid("a patch is a JSON object of the fields to change", pointer="", code=ErrorCode.INVALID_PATCH)
    entity = await repo.entity(session, kind.name, key, lock=True)
    if entity is None:
        raise NotFound(f"{kind.name} '{key}' not found", code=ErrorCode.not_found(kind.name))
    caller.require_edit(entity.domain)
    _check_if_match(if_match, entity.current_version)
    for field in kind.immutable:
        if field in patch:
            raise Invalid(f"'{field}' cannot be changed", pointer=f"/{field}", code=ErrorCode.IMMUTABLE_FIELD)
    lifecycle.require_editable(entity)
    current = await repo.revision(session, entity.id, entity.current_version)
    return entity, current, kind.parse(_merge(current.content, patch))


async def put(
    session: AsyncSession, caller: Caller, kind: Kind, data: Any, change_note: str = "", *, allow_duplicate: str | None = None
) -> tuple[EntityOut, bool]:
    """Set a whole definition: version 1, version N+1, or nothing when unchanged.

    For kinds written with set semantics in bulk (targets), where the key is the content's
    identity, so there is no If-Match: the version history keeps every value ever set.
    """
    definition = kind.parse(data)
    caller.require_edit(definition.domain)
    key = getattr(definition, kind.key_field)
    entity = await repo.entity(session, kind.name, key, lock=True)
    if entity is None:
        return await create(session, caller, kind, data, change_note, allow_duplicate=allow_duplicate), True
    if entity.domain != definition.domain:
        raise Invalid("'domain' cannot be changed", pointer="/domain", code=ErrorCode.IMMUTABLE_FIELD)
    current = await repo.revision(session, entity.id, entity.current_version)
    if current.content_hash == sha256_of(kind.dump(definition)):
        return _out(kind, entity, current), False
    lifecycle.require_editable(entity)
    if await lifecycle.needs_review(session, entity):
        raise _review_required_error(kind, key)
    return await append(session, caller, kind, entity, current, definition, change_note, allow_duplicate=allow_duplicate)


async def append(
    session: AsyncSession, caller: Caller, kind: Kind, entity: Entity, current: Revision, definition: Any, change_note: str,
    *, allow_duplicate: str | None = None, author: str | None = None, audit_extra: dict[str, Any] | None = None,
) -> tuple[EntityOut, bool]:
    """Append version N+1 with its audit event, or nothing when the content hash is unchanged.

    `author` (default: the caller) is who wrote the change; the caller is the audit actor, so an
    accepted proposal records its author on the version and its approver on the event.
    """
    key = entity.key
    content = kind.dump(definition)
    content_hash = sha256_of(content)
    if content_hash == current.content_hash:
        return _out(kind, entity, current), False
    await check_references(session, caller, kind, definition)
    extra = {**(audit_extra or {}), **await _duplicates(session, caller, kind, definition, allow_duplicate)}
    now = utcnow()
    version = entity.current_version + 1
    revision = Revision(entity_id=entity.id, version=version, content=content, content_hash=content_hash, author=author or caller.name, change_note=change_note, created_at=now)
    session.add(revision)
    entity.current_version = version
    entity.updated_at = now
    for field, value in _index_fields(kind, definition).items():
        setattr(entity, field, value)
    await session.flush()
    await audit.record(
        session, actor=caller.name, action=f"{kind.name}.update", entity_kind=kind.name, entity_key=key,
        before={"version": version - 1, "definition": current.content}, after={"version": version, "definition": content, **extra},
        reason=change_note,
    )
    return _out(kind, entity, revision), True


# --- reads ---------------------------------------------------------------------------------


async def _readable(session: AsyncSession, caller: Caller, kind: Kind, key: str) -> Entity:
    entity = await repo.entity(session, kind.name, key)
    if entity is None:
        raise NotFound(f"{kind.name} '{key}' not found", code=ErrorCode.not_found(kind.name))
    caller.require_read(entity.domain)
    return entity


async def get(
    session: AsyncSession, caller: Caller, kind: Kind, key: str, *, version: int | None = None, as_of: dt.datetime | None = None
) -> EntityOut:
    entity = await _readable(session, caller, kind, key)
    if version is not None and as_of is not None:
        raise Invalid("give version or as_of, not both", pointer="version", code=ErrorCode.CONFLICTING_PARAMETERS)
    if version is not None:
        revision = await repo.revision(session, entity.id, version)
        if revision is None:
            raise NotFound(f"{kind.name} '{key}' has no version {version}", code=ErrorCode.VERSION_NOT_FOUND, details={"latest_version": entity.current_version})
    elif as_of is not None:
        revision = await repo.revision_as_of(session, entity.id, as_of)
        if revision is None:
            raise NotFound(f"{kind.name} '{key}' did not exist at {as_of.isoformat()}", code=ErrorCode.VERSION_NOT_FOUND)
    else:
        revision = await repo.revision(session, entity.id, entity.current_version)
    return _out(kind, entity, revision)


async def versions(session: AsyncSession, caller: Caller, kind: Kind, key: str, *, cursor: str | None, limit: int) -> tuple[list[VersionOut], str | None]:
    entity = await _readable(session, caller, kind, key)
    after = decode_cursor(cursor, int) or 0
    rows = await repo.revisions(session, entity.id, after_version=after, limit=limit)
    items = [VersionOut.model_validate(r, from_attributes=True) for r in rows]
    return items, next_cursor(items, limit, items[-1].version if items else None)


async def diff(session: AsyncSession, caller: Caller, kind: Kind, key: str, from_version: int, to_version: int) -> DiffOut:
    entity = await _readable(session, caller, kind, key)
    before = await repo.revision(session, entity.id, from_version)
    after = await repo.revision(session, entity.id, to_version)
    for version, found, name in ((from_version, before, "from"), (to_version, after, "to")):
        if found is None:
            raise NotFound(f"{kind.name} '{key}' has no version {version}", code=ErrorCode.VERSION_NOT_FOUND, details={"parameter": name})
    return DiffOut(key=key, from_version=from_version, to_version=to_version, changes=differ.diff(before.content, after.content))


async def search(session: AsyncSession, caller: Caller, kind: Kind, *, cursor: str | None, limit: int, **filters: Any) -> tuple[list[EntityOut], str | None]:
    after_key = decode_cursor(cursor, str)
    rows = await repo.search(session, kind.name, domains=caller.readable_domains(), after_key=after_key, limit=limit, **filters)
    items = [_out(kind, e, r) for e, r in rows]
    return items, next_cursor(items, limit, items[-1].key if items else None)
