"""POST /v1/query (governed values, JSON or CSV) and POST /v1/query/sql (the SQL it would run)."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from app.api.deps import CurrentCaller
from app.errors import responses
from app.query.service import json_value
from app.query.schemas import MetricInfo, QueryAnswer, QueryRequest

router = APIRouter(prefix="/v1/query", tags=["query"], responses=responses(401, 403, 422, 502, 503, 504))


class CompiledSql(BaseModel):
    source: str
    dialect: str
    sql: str
    params: list[Any]


class SqlAnswer(BaseModel):
    queries: list[CompiledSql]
    metrics: list[MetricInfo]


def _csv(answer: QueryAnswer) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in answer.columns])
    writer.writerows(answer.rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"X-Cache": answer.cache})


@router.post(
    "",
    response_model=QueryAnswer,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "rows; CSV with a header row when Accept: text/csv"}},
)
async def query(body: QueryRequest, caller: CurrentCaller, request: Request):
    answer = await request.app.state.queries.resolve(caller, body)
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(answer)
    return answer


@router.post("/sql", response_model=SqlAnswer)
async def query_sql(body: QueryRequest, caller: CurrentCaller, request: Request) -> SqlAnswer:
    prepared = await request.app.state.queries.prepare(caller, body)
    c = prepared.compiled
    return SqlAnswer(
        queries=[CompiledSql(source=c.source, dialect=c.dialect, sql=c.sql, params=[json_value(p) for p in c.params])],
        metrics=[request.app.state.queries.info(k, prepared.metrics[k]) for k in body.metrics],
    )
