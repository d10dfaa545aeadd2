"""Sources (admin only); the URL is write-only."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import AppSettings, CurrentCaller, ReadSession, WriteSession
from app.catalog.schemas import Page
from app.errors import responses
from app.reach import Reach
from app.sources import service
from app.sources.schemas import SourceIn, SourceOut

router = APIRouter(prefix="/v1/sources", tags=["sources"], responses=responses(401, 403, 422))


@router.get("", response_model=Page[SourceOut], name="list_sources")
async def list_sources(caller: CurrentCaller, session: ReadSession) -> Page[SourceOut]:
    return Page[SourceOut](items=await service.list_sources(session, caller), next_cursor=None)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SourceOut, responses=responses(409), name="create_source")
async def create_source(body: SourceIn, caller: CurrentCaller, session: WriteSession, settings: AppSettings) -> SourceOut:
    return await service.create_source(session, caller, body, settings.secret_key, Reach.for_sources(settings))


@router.get("/{name}", response_model=SourceOut, responses=responses(404), name="get_source")
async def get_source(name: str, caller: CurrentCaller, session: ReadSession) -> SourceOut:
    return await service.get_source(session, caller, name)
