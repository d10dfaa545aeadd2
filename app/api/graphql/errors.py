"""GraphQL errors with REST's stable codes in `extensions.code` (and `extensions.details`).

An AppError keeps its code, message and details; a request the parser or validator refuses is
GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED (or the code a limit gave it); anything else is
INTERNAL with a fixed message, logged here. A stale `expectedVersion` is not an error at all but a
typed `StaleVersionError` result (see StaleVersionHandler).
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.types import Info

from app.errors import AppError, PreconditionFailed

log = logging.getLogger("yardstick.graphql")
INTERNAL_MESSAGE = "an internal error occurred; the request id names it in the server log"
REQUEST_ERRORS = (ValueError, TypeError, GraphQLError)  # raised while coercing the caller's input


def coded(error: GraphQLError) -> GraphQLError:
    """The error as the caller sees it: with a stable code, and without internals."""
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(original, AppError):
        error.extensions = {**extensions, "code": original.code, "details": original.details}
        return error
    if "code" in extensions:
        return error
    if error.path is None and (original is None or isinstance(original, REQUEST_ERRORS)):
        parse = isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError)
        error.extensions = {**extensions, "code": "GRAPHQL_PARSE_FAILED" if parse else "GRAPHQL_VALIDATION_FAILED"}
        return error
    log.error("unhandled GraphQL error at %s: %s", error.path, error.message, exc_info=original)
    return GraphQLError(INTERNAL_MESSAGE, nodes=error.nodes, path=error.path, extensions={"code": "INTERNAL"})


@strawberry.type(description="The definition changed since the version you named; nothing was written.")
class StaleVersionError:
    message: str
    code: str = "STALE_VERSION"
    current_version: int
    etag: str


class StaleVersionHandler(strawberry.ExceptionHandler[PreconditionFailed, StaleVersionError]):
    """Turns the service's 412 STALE_VERSION into a StaleVersionError result on update mutations."""

    def handle(self, exception: PreconditionFailed, *, field: Any, info: Info) -> StaleVersionError | None:
        if exception.code != "STALE_VERSION":
            return None
        details = exception.details or {}
        return StaleVersionError(message=exception.message, current_version=details["current_version"], etag=details["etag"])
