"""POST /v1/query (governed values, JSON or CSV) and POST /v1/query/sql (the SQL it would run)."""

from __future__ import annotations

import csv
import io
from collections import OrderedDict

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from app.api.deps import CurrentCaller, current_caller
from app.errors import invalid_from_pydantic, responses
from app.query.schemas import QueryAnswer, QueryRequest, SqlAnswer

router = APIRouter(prefix="/v1/query", tags=["query"], responses=responses(401, 403, 422, 502, 503, 504))


def _csv(answer: QueryAnswer) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in answer.columns])
    writer.writerows(answer.rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"X-Cache": answer.cache})


class ParsedBodies:
    """Dashboards send the same bodies again and again: a valid body is parsed once and its
    (immutable) QueryRequest reused; an invalid one is parsed, and refused, every time."""

    def __init__(self, size: int = 1024) -> None:
        self._items: OrderedDict[bytes, QueryRequest] = OrderedDict()
        self._size = size

    def parse(self, body: bytes) -> QueryRequest:
        parsed = self._items.get(body)
        if parsed is not None:
            return parsed
        try:
            parsed = QueryRequest.model_validate_json(body)
        except ValidationError as exc:
            raise invalid_from_pydantic(exc.errors()) from None
        self._items[body] = parsed
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return parsed


_bodies = ParsedBodies()


async def _parsed(request: Request) -> QueryRequest:
    return _bodies.parse(await request.body())


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
    body = await _parsed(request)
    caller = await current_caller(request)
    service = request.app.state.queries
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(await service.resolve(caller, body))
    return Response(await service.resolve_json(caller, body), media_type="application/json")


@router.post("/sql", response_model=SqlAnswer, name="compile_query")
async def query_sql(body: QueryRequest, caller: CurrentCaller, request: Request) -> SqlAnswer:
    return await request.app.state.queries.compile(caller, body)
