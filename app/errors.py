"""One error family: every failure a caller can see is an AppError with a stable code.

The handler in app.main renders `{"error": {"code", "message", "details"}}` with the
error's HTTP status; GraphQL puts the same code in `extensions.code`.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 400
    code: str = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class Unauthenticated(AppError):
    status, code = 401, "UNAUTHENTICATED"

    def __init__(self, message: str = "a valid API key is required (Authorization: Bearer <key>)") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status, code = 403, "FORBIDDEN"


class NotFound(AppError):
    status, code = 404, "NOT_FOUND"


class Conflict(AppError):
    status, code = 409, "CONFLICT"


class Gone(AppError):
    status, code = 410, "GONE"


class PreconditionFailed(AppError):
    status, code = 412, "PRECONDITION_FAILED"


class PreconditionRequired(AppError):
    status, code = 428, "PRECONDITION_REQUIRED"


class PayloadTooLarge(AppError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class Invalid(AppError):
    """The request is well-formed JSON but says something that cannot be accepted."""

    status, code = 422, "INVALID"

    def __init__(self, message: str, *, pointer: str | None = None, code: str | None = None, details: Any = None):
        if pointer is not None:
            details = {"pointer": pointer, **(details or {})}
        super().__init__(message, code=code, details=details)


class QueryTimeout(AppError):
    status, code = 504, "QUERY_TIMEOUT"


class SourceUnavailable(AppError):
    status, code = 503, "SOURCE_UNAVAILABLE"


class SourceError(AppError):
    status, code = 502, "SOURCE_ERROR"


# The OpenAPI description of the error body, declared on routes so the contract shows it.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer."""
    return {
        s: {"description": "error", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
        for s in statuses
    }


def pointer_of(loc: tuple) -> str:
    return "/" + "/".join(str(part) for part in loc) if loc else ""


def invalid_from_pydantic(errors: list[dict[str, Any]], *, skip: frozenset[str] = frozenset()) -> Invalid:
    """A 422 naming the first bad field by JSON pointer, with every problem in details."""
    problems = []
    for err in errors:
        loc = tuple(part for part in err.get("loc", ()) if part not in skip)
        kind = err.get("type", "")
        code = {"extra_forbidden": "UNKNOWN_FIELD", "missing": "MISSING_FIELD", "json_invalid": "MALFORMED_JSON"}.get(kind, "INVALID_FIELD")
        problems.append({"pointer": pointer_of(loc), "code": code, "message": err.get("msg", "")})
    first = problems[0] if problems else {"pointer": "", "code": "INVALID_FIELD", "message": "invalid"}
    return Invalid(f"{first['pointer'] or 'body'}: {first['message']}", pointer=first["pointer"], code=first["code"], details={"errors": problems})
