"""create_app(): settings, registry database, middleware, routers, error handlers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import docs, openapi
from app.api.deps import CallerCache
from app.api.graphql.schema import graphql_router
from app.api.rest import admin, audit, catalog, governance, health, kpi, query, sources
from app.audit import service as audit_log
from app.config import Settings, get_settings
from app.db import Database
from app.engines import EnginePool
from app.errors import AppError, ErrorCode, invalid_from_pydantic, malformed_json
from app.governance import delivery
from app.kpi.answers import ANSWER_EXTRAS
from app.memo import Memo
from app.ops.idempotency import MAX_KEY as MAX_IDEMPOTENCY_KEY, Idempotency
from app.ops.looplag import LoopLag
from app.ops.middleware import BodyLimit, KeyRequired, Options, RefuseNul, RequestContext, Telemetry, allowed_methods
from app.query.service import QueryService
from app.reach import Reach

HTTP_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED, 406: ErrorCode.NOT_ACCEPTABLE, 415: ErrorCode.UNSUPPORTED_MEDIA_TYPE}
# What production mode answers only with an API key (docs/roles.md); /healthz and /readyz stay open for probes.
KEYED_IN_PRODUCTION = ("/openapi.json", "/docs", "/redoc", "/graphql", "/metrics")


def _error(status: int, code: ErrorCode, message: str, details=None, headers=None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = invalid_from_pydantic(list(exc.errors()), skip=frozenset({"body"}))
        return _error(err.status, err.code, err.message, err.details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            return await app_error(request, malformed_json("not UTF-8"))  # the framework's "error parsing the body"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request.app.router.routes, request.scope))}
        return _error(exc.status_code, HTTP_CODES.get(exc.status_code, ErrorCode.HTTP_ERROR), str(exc.detail), headers=headers)

    # Nothing handles Exception here: RequestContext (app/ops/middleware.py) answers it, inside the
    # middleware, so the answer carries the request id and the connection stays open.


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database(settings.database_url, session_info=audit_log.session_info(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        delivery.start(app)
        app.state.loop_lag.start()
        yield
        await app.state.loop_lag.stop()
        await delivery.stop(app)
        await app.state.shutdown()

    app = FastAPI(
        title="Yardstick",
        version="0.1.0",
        description="The governed library of KPI definitions: versioned metrics, their values, targets and audit trail.",
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
        separate_input_output_schemas=False,  # one schema per model: a recursive one (scorecard nodes) is not split in two
        docs_url=None,  # docs.mount() serves /docs and /redoc with their own assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.callers = CallerCache(db)
    app.state.telemetry = Telemetry()
    app.state.loop_lag = LoopLag(app.state.telemetry.registry)
    app.state.bodies = Memo(query.BODY_MEMO_SIZE)  # parsed /v1/query bodies, by their bytes

    engines = EnginePool(Reach.for_sources(settings))
    app.state.queries = QueryService(db, engines, settings, extras=ANSWER_EXTRAS)

    async def shutdown() -> None:
        await app.state.queries.cache.close()
        await engines.close_all()
        await db.dispose()

    app.state.shutdown = shutdown
    install_error_handlers(app)
    # /v1/query first: routes are matched in order and it is the hot path of every dashboard.
    for router in (query.router, health.router, admin.router, sources.router, governance.router, catalog.datasets, catalog.metrics, audit.router, kpi.router):
        app.include_router(router)
    app.include_router(graphql_router(settings))
    docs.mount(app)
    docs.require_bearer(app)
    openapi.install(app, idempotency_key_length=MAX_IDEMPOTENCY_KEY)
    authenticate = app.state.callers.from_header
    app.add_middleware(Idempotency, db=db, authenticate=authenticate)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.environment == "production":
        app.add_middleware(KeyRequired, authenticate=authenticate, paths=KEYED_IN_PRODUCTION, graphql="/graphql")
    app.add_middleware(Options)
    app.add_middleware(RefuseNul)
    app.add_middleware(RequestContext, telemetry=app.state.telemetry)
    return app
