"""POST /v1/query (governed values, JSON or CSV) and POST /v1/query/sql (the SQL it would run)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError

from app.api.deps import current_caller
from app.errors import invalid_from_pydantic, responses
from app.memo import Memo
from app.query.schemas import QueryAnswer, QueryRequest, SqlAnswer

def _csv(answer: QueryAnswer) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in answer.columns])
    writer.writerows(answer.rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"X-Cache": answer.cache})


BODY_MEMO_SIZE = 1024
BODY_MEMO_MAX_BYTES = 4096  # dashboards send small bodies again and again; a large one is parsed each time


def parse_body(bodies: Memo[bytes, QueryRequest], body: bytes) -> QueryRequest:
    """The (immutable) QueryRequest of a body, parsed once per distinct small body; an invalid one is refused every time.
    Called only once the caller is authenticated, so an anonymous body is never kept."""
    parsed = bodies.get(body)
    if parsed is not None:
        return parsed
    try:
        parsed = QueryRequest.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc.errors()) from None
    return bodies.put(body, parsed) if len(body) <= BODY_MEMO_MAX_BYTES else parsed


CALLER = "yardstick.caller"  # the scope key of the authenticated Caller


class AuthenticatedFirst(APIRoute):
    """Authenticates before FastAPI reads the body (it reads and validates a declared body before any
    dependency runs), so an anonymous body answers 401 whatever it holds and is never parsed or kept."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            request.scope[CALLER] = await current_caller(request)
            return await handler(request)

        return authenticated


router = APIRouter(prefix="/v1/query", tags=["query"], responses=responses(401, 403, 422, 502, 503, 504), route_class=AuthenticatedFirst)


@router.post(
    "",
    name="resolve_query",
    response_model=QueryAnswer,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "rows; CSV with a header row when Accept: text/csv"}},
    # The body is parsed here rather than by dependency injection: this is the hot path of every
    # dashboard and FastAPI's per-request dependency solving costs a third of its time (bench/REPORT.md).
    # The contract is the same QueryRequest schema that /v1/query/sql declares.
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryRequest"}}}}},
)
async def query(request: Request) -> Response:
    caller = request.scope[CALLER]
    body = parse_body(request.app.state.bodies, await request.body())
    service = request.app.state.queries
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(await service.resolve(caller, body))
    return Response(await service.resolve_json(caller, body), media_type="application/json")


@router.post("/sql", response_model=SqlAnswer, name="compile_query")
async def query_sql(body: QueryRequest, request: Request) -> SqlAnswer:
    return await request.app.state.queries.compile(request.scope[CALLER], body)
