"""Domains, principals, roles and keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from app.api.deps import CurrentCaller, ReadSession, WriteSession
from app.auth import service
from app.auth.schemas import DomainIn, DomainOut, KeyCreated, KeyIn, KeyOut, PrincipalCreated, PrincipalIn, PrincipalOut, RolesIn
from app.catalog.schemas import Page
from app.errors import responses

router = APIRouter(prefix="/v1", tags=["administration"], responses=responses(401, 403, 422))


@router.get("/domains", response_model=Page[DomainOut], name="list_domains")
async def list_domains(caller: CurrentCaller, session: ReadSession) -> Page[DomainOut]:
    return Page[DomainOut](items=await service.list_domains(session), next_cursor=None)


@router.post("/domains", status_code=status.HTTP_201_CREATED, response_model=DomainOut, responses=responses(409), name="create_domain")
async def create_domain(body: DomainIn, caller: CurrentCaller, session: WriteSession) -> DomainOut:
    return await service.create_domain(session, caller, body)


@router.get("/principals", response_model=Page[PrincipalOut], name="list_principals")
async def list_principals(caller: CurrentCaller, session: ReadSession) -> Page[PrincipalOut]:
    return Page[PrincipalOut](items=await service.list_principals(session, caller), next_cursor=None)


@router.post("/principals", status_code=status.HTTP_201_CREATED, response_model=PrincipalCreated, responses=responses(409), name="create_principal")
async def create_principal(body: PrincipalIn, caller: CurrentCaller, session: WriteSession) -> PrincipalCreated:
    return await service.create_principal(session, caller, body)


@router.put("/principals/{name}/roles", response_model=PrincipalOut, responses=responses(404), name="set_principal_roles")
async def set_roles(name: str, body: RolesIn, caller: CurrentCaller, session: WriteSession, request: Request) -> PrincipalOut:
    answer = await service.set_roles(session, caller, name, body.roles)
    request.app.state.callers.forget()
    return answer


@router.post("/principals/{name}/keys", status_code=status.HTTP_201_CREATED, response_model=KeyCreated, responses=responses(404), name="create_principal_key")
async def create_key(name: str, body: KeyIn, caller: CurrentCaller, session: WriteSession) -> KeyCreated:
    return await service.create_key(session, caller, name, body.label)


@router.delete("/keys/{key_id}", response_model=KeyOut, responses=responses(404), name="revoke_key")
async def revoke_key(key_id: str, caller: CurrentCaller, session: WriteSession, request: Request) -> KeyOut:
    answer = await service.revoke_key(session, caller, key_id)
    request.app.state.callers.forget()
    return answer
