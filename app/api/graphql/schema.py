"""The strawberry schema and the FastAPI router mounted at /graphql.

Limits: documents over 2,000 tokens are refused while parsing; over 10 levels, 30 aliases or
500 expanded fields before validation (limits.py); batching is off. Request-level refusals
(batching, bad JSON) answer `{"errors": [{"message", "extensions": {"code": "BAD_REQUEST"}}]}`
with the HTTP status strawberry chose (400, 404, 405, 415).
"""

from __future__ import annotations

import json
from typing import Any

import strawberry
from cross_web import HTTPException
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from strawberry.extensions import MaxTokensLimiter
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionResult

from app.api import docs
from app.api.graphql.context import get_context
from app.api.graphql.errors import StaleVersionHandler, coded
from app.api.graphql.governance import GovernanceMutation, GovernanceQuery
from app.api.graphql.kpi import KpiMutation, KpiQuery
from app.api.graphql.limits import DocumentLimits
from app.api.graphql.mutations import Mutation
from app.api.graphql.queries import Query
from app.config import Settings

MAX_TOKENS = 2000
HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}


class Schema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Logging happens in errors.coded(), which sees which errors are unexpected."""


schema = Schema(
    query=merge_types("Query", (Query, KpiQuery, GovernanceQuery)),
    mutation=merge_types("Mutation", (Mutation, KpiMutation, GovernanceMutation)),
    extensions=[lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS), DocumentLimits],
    exception_handlers=[StaleVersionHandler()],
    config=StrawberryConfig(batching_config=None),
)


class Router(GraphQLRouter):
    """GraphQLRouter whose every answer carries stable error codes."""

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [coded(e) for e in result.errors]
        return await super().process_result(request, result)

    async def run(self, request: Any, context: Any = strawberry.UNSET, root_value: Any = strawberry.UNSET) -> Any:
        if request.method == "POST" and "json" in request.headers.get("content-type", ""):
            try:
                body = json.loads(await request.body())  # Starlette keeps the body for the parser below
            except ValueError:
                body = None
            if not isinstance(body, (dict, list)):  # a list meets strawberry's own "batching is off"
                message = "the body is a JSON object with a query"
                return JSONResponse({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}, status_code=400)
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            code = HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
            body = {"errors": [{"message": exc.reason, "extensions": {"code": code}}]}
            return JSONResponse(body, status_code=exc.status_code)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return docs.graphiql_page(request)  # the stock page loads its scripts from a CDN


def graphql_router(settings: Settings) -> Router:
    """POST /graphql; GraphiQL on GET only in development."""
    ide = "graphiql" if settings.environment == "development" else None
    return Router(
        schema, path="/graphql", graphql_ide=ide, allow_queries_via_get=False,
        context_getter=get_context, subscription_protocols=(), include_in_schema=False,
    )
