"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from app.api.docs import PUBLIC
from app.errors import RegistryUnavailable, responses

router = APIRouter(tags=["operations"])


class StatusOut(BaseModel):
    status: str


@router.get("/healthz", response_model=StatusOut, name="get_liveness", openapi_extra=PUBLIC)
async def healthz() -> StatusOut:
    return StatusOut(status="ok")


@router.get("/readyz", response_model=StatusOut, responses=responses(503), name="get_readiness", openapi_extra=PUBLIC)
async def readyz(request: Request) -> StatusOut:
    try:
        async with request.app.state.db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the registry means "not ready"
        raise RegistryUnavailable() from exc
    return StatusOut(status="ready")


@router.get("/metrics", response_class=Response, name="get_prometheus_metrics", openapi_extra=PUBLIC,
            description="Public in development; in production mode it needs an API key (docs/roles.md).",
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}, "description": "Prometheus text format"}})
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.telemetry.registry), media_type=CONTENT_TYPE_LATEST)
