"""Datasets and metrics: one router shape serves both kinds (and scorecards)."""


import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response, status
from pydantic import BaseModel

from app.api.deps import CurrentCaller, Cursor, FromVersion, Limit, ReadSession, ToVersion, Version, WriteSession
from app.catalog import duplicates, service
from app.catalog.kinds import DATASET, METRIC, Kind
from app.catalog.schemas import DatasetIn, DatasetPatch, DiffOut, MetricIn, MetricPatch, Page, VersionOut
from app.db import as_utc
from app.declared import declared_as
from app.errors import responses
from app.governance import proposals
from app.governance.schemas import ProposalOut

Level = Annotated[str | None, Query(pattern="^(strategic|tactical|operational)$")]
# Declared here rather than as a Header parameter: a missing If-Match is a 428 (IF_MATCH_REQUIRED),
# which a required Header would turn into a 422.
IF_MATCH = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
            "description": 'the ETag of the version being changed, e.g. "3"'}


def _split_note(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """`change_note` rides along in the body beside the definition fields."""
    body = dict(body)
    return body, service.check_note(body.pop("change_note", None))


def _split_options(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Request-level `allow_duplicate` + `duplicate_reason` (not content): the reason, or None."""
    body = dict(body)
    return body, duplicates.allow_reason(body.pop("allow_duplicate", None), body.pop("duplicate_reason", None))


def _split_status(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Request-level `status` on create: "published" (default) or "draft" (not content)."""
    body = dict(body)
    return body, body.pop("status", None) or "published"


def catalog_router(kind: Kind, plural: str, example: dict[str, Any], create: Any, patch: type[BaseModel]) -> APIRouter:
    """The routes of one kind; `create` and `patch` are the body models the contract declares
    (the body itself is validated by `kind.parse`, so every path answers the same pointers)."""
    router = APIRouter(prefix=f"/v1/{plural}", tags=[plural], responses=responses(401, 403, 422))
    out = kind.out
    definition_body = Body(openapi_examples={"definition": {"value": example}}, description=f"a {kind.name} definition plus an optional change_note")

    @router.get("", response_model=Page[out], name=f"list_{plural}")
    async def list_entities(
        caller: CurrentCaller,
        session: ReadSession,
        domain: Annotated[str | None, Query(max_length=63)] = None,
        owner: Annotated[str | None, Query(max_length=200)] = None,
        tag: Annotated[str | None, Query(max_length=200)] = None,
        status_: Annotated[str | None, Query(alias="status", max_length=16)] = None,
        level: Level = None,
        q: Annotated[str | None, Query(max_length=200, description="text search over key, name, synonyms and caliber")] = None,
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> Page[out]:
        items, next_cursor = await service.search(
            session, caller, kind, cursor=cursor, limit=limit,
            domain=domain, owner=owner, tag=tag, status=status_, level=level, text=q,
        )
        return Page[out](items=items, next_cursor=next_cursor)

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=out, responses=responses(409), name=f"create_{kind.name}")
    async def create_entity(
        body: Annotated[dict[str, Any], declared_as(create), definition_body], caller: CurrentCaller, session: WriteSession, response: Response,
    ) -> out:
        definition, note = _split_note(body)
        definition, allow = _split_options(definition)
        definition, status_ = _split_status(definition)
        answer = await service.create(session, caller, kind, definition, note, status=status_, allow_duplicate=allow)
        response.headers["ETag"] = service.etag(answer.version)
        response.headers["Location"] = f"/v1/{plural}/{answer.key}"
        return answer

    @router.get("/{key}", response_model=out, responses=responses(404), name=f"get_{kind.name}")
    async def get_entity(
        key: str,
        caller: CurrentCaller,
        session: ReadSession,
        response: Response,
        version: Version = None,
        as_of: Annotated[dt.datetime | None, Query(description="the definition as it stood at this moment (UTC when no offset)")] = None,
    ) -> out:
        answer = await service.get(session, caller, kind, key, version=version, as_of=as_utc(as_of, pointer="/query/as_of"))
        if answer.version == answer.latest_version:
            response.headers["ETag"] = service.etag(answer.version)
        return answer

    @router.patch(
        "/{key}", response_model=out, name=f"patch_{kind.name}", openapi_extra={"parameters": [IF_MATCH]},
        responses={**responses(404, 409, 412, 428), 202: {"model": ProposalOut, "description": "the domain requires review: a proposal was opened (Location names it)"}},
    )
    async def update_entity(
        key: str,
        body: Annotated[dict[str, Any], declared_as(patch), Body(description="the fields to change (JSON merge patch; null removes a field) plus an optional change_note")],
        caller: CurrentCaller,
        session: WriteSession,
        request: Request,
        response: Response,
    ) -> Any:
        patch_, note = _split_note(body)
        patch_, allow = _split_options(patch_)
        if_match = request.headers.get("if-match")
        answer = await proposals.patch(session, caller, kind, key, patch_, if_match=if_match, change_note=note, allow_duplicate=allow)
        if isinstance(answer, ProposalOut):
            return Response(answer.model_dump_json(), status_code=status.HTTP_202_ACCEPTED, media_type="application/json",
                            headers={"Location": f"/v1/proposals/{answer.id}"})
        response.headers["ETag"] = service.etag(answer.version)
        return answer

    @router.get("/{key}/versions", response_model=Page[VersionOut], responses=responses(404), name=f"list_{kind.name}_versions")
    async def list_versions(key: str, caller: CurrentCaller, session: ReadSession, cursor: Cursor = None, limit: Limit = 100) -> Page[VersionOut]:
        items, next_cursor = await service.versions(session, caller, kind, key, cursor=cursor, limit=limit)
        return Page[VersionOut](items=items, next_cursor=next_cursor)

    @router.get("/{key}/diff", response_model=DiffOut, responses=responses(404), name=f"diff_{kind.name}")
    async def diff_versions(
        key: str,
        caller: CurrentCaller,
        session: ReadSession,
        from_: FromVersion,
        to: ToVersion,
    ) -> DiffOut:
        return await service.diff(session, caller, kind, key, from_, to)

    return router


datasets = catalog_router(
    DATASET,
    "datasets",
    {
        "name": "orders", "domain": "sales", "source": "warehouse", "table": "orders", "time_column": "ordered_at",
        "columns": [{"name": "order_id", "type": "string"}, {"name": "ordered_at", "type": "timestamp"}, {"name": "amount", "type": "decimal"}],
    },
    DatasetIn, DatasetPatch,
)
metrics = catalog_router(
    METRIC,
    "metrics",
    {"key": "sales.gmv", "name": "销售额 / GMV", "domain": "sales", "owner": "alice", "unit": "CNY", "type": "simple", "dataset": "orders", "measure": "SUM(amount)", "change_note": "first definition"},
    MetricIn, MetricPatch,
)
