"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.api.docs import PUBLIC
from app.errors import SourceUnavailable, responses

router = APIRouter(tags=["operations"])


@router.get("/healthz", openapi_extra=PUBLIC)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses=responses(503), openapi_extra=PUBLIC)
async def readyz(request: Request) -> dict[str, str]:
    try:
        async with request.app.state.db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the registry means "not ready"
        raise SourceUnavailable("the registry database is not reachable", code="REGISTRY_UNAVAILABLE") from exc
    return {"status": "ready"}


@router.get("/metrics", response_class=Response, openapi_extra=PUBLIC)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.telemetry.registry), media_type=CONTENT_TYPE_LATEST)
