"""One error family: every failure a caller can see is an AppError with a stable code.

The handler in app.main renders `{"error": {"code", "message", "details"}}` with the
error's HTTP status; GraphQL puts the same code in `extensions.code`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class ErrorCode(StrEnum):
    """Every code an error can carry: the wire string is the member's name."""

    # request and transport
    BAD_REQUEST = "BAD_REQUEST"
    HTTP_ERROR = "HTTP_ERROR"
    MALFORMED_JSON = "MALFORMED_JSON"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    INVALID_CHARACTER = "INVALID_CHARACTER"
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"
    CONFLICTING_PARAMETERS = "CONFLICTING_PARAMETERS"
    INTERNAL = "INTERNAL"
    NOT_FOUND = "NOT_FOUND"
    # fields of a body or parameter (also per problem in `details.errors`)
    INVALID = "INVALID"
    INVALID_FIELD = "INVALID_FIELD"
    MISSING_FIELD = "MISSING_FIELD"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    # authentication and rights
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    REFERENCE_FORBIDDEN = "REFERENCE_FORBIDDEN"
    # registry objects
    DOMAIN_EXISTS = "DOMAIN_EXISTS"
    DOMAIN_NOT_FOUND = "DOMAIN_NOT_FOUND"
    UNKNOWN_DOMAIN = "UNKNOWN_DOMAIN"
    PRINCIPAL_EXISTS = "PRINCIPAL_EXISTS"
    PRINCIPAL_NOT_FOUND = "PRINCIPAL_NOT_FOUND"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    SOURCE_EXISTS = "SOURCE_EXISTS"
    SOURCE_NOT_FOUND = "SOURCE_NOT_FOUND"
    UNKNOWN_SOURCE = "UNKNOWN_SOURCE"
    UNSUPPORTED_SOURCE = "UNSUPPORTED_SOURCE"
    UNSUPPORTED_SOURCE_KIND = "UNSUPPORTED_SOURCE_KIND"
    INVALID_SOURCE_URL = "INVALID_SOURCE_URL"
    SOURCE_PATH_FORBIDDEN = "SOURCE_PATH_FORBIDDEN"
    SOURCE_HOST_FORBIDDEN = "SOURCE_HOST_FORBIDDEN"
    SOURCE_IS_REGISTRY = "SOURCE_IS_REGISTRY"
    WEBHOOK_HOST_FORBIDDEN = "WEBHOOK_HOST_FORBIDDEN"
    WEBHOOK_NOT_FOUND = "WEBHOOK_NOT_FOUND"
    AUDIT_HEAD_MISSING = "AUDIT_HEAD_MISSING"
    # versioned definitions
    DATASET_EXISTS = "DATASET_EXISTS"
    DATASET_NOT_FOUND = "DATASET_NOT_FOUND"
    METRIC_EXISTS = "METRIC_EXISTS"
    METRIC_NOT_FOUND = "METRIC_NOT_FOUND"
    TARGET_EXISTS = "TARGET_EXISTS"
    TARGET_NOT_FOUND = "TARGET_NOT_FOUND"
    SCORECARD_EXISTS = "SCORECARD_EXISTS"
    SCORECARD_NOT_FOUND = "SCORECARD_NOT_FOUND"
    VERSION_NOT_FOUND = "VERSION_NOT_FOUND"
    CONFLICT = "CONFLICT"
    IMMUTABLE_FIELD = "IMMUTABLE_FIELD"
    INVALID_PATCH = "INVALID_PATCH"
    INVALID_STATUS = "INVALID_STATUS"
    IF_MATCH_REQUIRED = "IF_MATCH_REQUIRED"
    PRECONDITION_REQUIRED = "PRECONDITION_REQUIRED"
    STALE_VERSION = "STALE_VERSION"
    PRECONDITION_FAILED = "PRECONDITION_FAILED"
    KEY_COLLISION = "KEY_COLLISION"
    DUPLICATE_ITEM = "DUPLICATE_ITEM"
    DUPLICATE_TARGET = "DUPLICATE_TARGET"
    # definition content
    UNKNOWN_DATASET = "UNKNOWN_DATASET"
    UNKNOWN_METRIC = "UNKNOWN_METRIC"
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    UNKNOWN_DIMENSION = "UNKNOWN_DIMENSION"
    AMBIGUOUS_DIMENSION = "AMBIGUOUS_DIMENSION"
    INVALID_EXPRESSION = "INVALID_EXPRESSION"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    FORBIDDEN_FUNCTION = "FORBIDDEN_FUNCTION"
    INVALID_TIME_COLUMN = "INVALID_TIME_COLUMN"
    NO_TIME_COLUMN = "NO_TIME_COLUMN"
    METRIC_CYCLE = "METRIC_CYCLE"
    NESTED_CUMULATIVE = "NESTED_CUMULATIVE"
    CROSS_SOURCE_JOIN = "CROSS_SOURCE_JOIN"
    TARGET_DOMAIN_MISMATCH = "TARGET_DOMAIN_MISMATCH"
    WEIGHTS_NOT_100 = "WEIGHTS_NOT_100"
    INVALID_PERIOD = "INVALID_PERIOD"
    # governance
    REVIEW_REQUIRED = "REVIEW_REQUIRED"
    IN_REVIEW = "IN_REVIEW"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    DEFINITION_RETIRED = "DEFINITION_RETIRED"
    HAS_DEPENDENTS = "HAS_DEPENDENTS"
    INVALID_REPLACEMENT = "INVALID_REPLACEMENT"
    DUPLICATE_METRIC = "DUPLICATE_METRIC"
    DUPLICATE_REASON_REQUIRED = "DUPLICATE_REASON_REQUIRED"
    PROPOSAL_NOT_FOUND = "PROPOSAL_NOT_FOUND"
    PROPOSAL_CLOSED = "PROPOSAL_CLOSED"
    STALE_PROPOSAL = "STALE_PROPOSAL"
    SELF_REVIEW = "SELF_REVIEW"
    REVIEW_IN_FUTURE = "REVIEW_IN_FUTURE"
    GONE = "GONE"
    METRIC_RETIRED = "METRIC_RETIRED"
    # queries and sources
    INVALID_QUERY = "INVALID_QUERY"
    INVALID_FILTER = "INVALID_FILTER"
    INVALID_FILTER_VALUE = "INVALID_FILTER_VALUE"
    QUERY_LIMIT_EXCEEDED = "QUERY_LIMIT_EXCEEDED"
    CROSS_SOURCE_QUERY = "CROSS_SOURCE_QUERY"
    ROW_LIMIT_EXCEEDED = "ROW_LIMIT_EXCEEDED"
    QUERY_TIMEOUT = "QUERY_TIMEOUT"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    SOURCE_SATURATED = "SOURCE_SATURATED"
    REGISTRY_UNAVAILABLE = "REGISTRY_UNAVAILABLE"
    SOURCE_ERROR = "SOURCE_ERROR"
    # GraphQL refusals (`extensions.code`)
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    FRAGMENT_CYCLE = "FRAGMENT_CYCLE"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    QUERY_TOO_LARGE = "QUERY_TOO_LARGE"

    @classmethod
    def exists(cls, kind: str) -> ErrorCode:
        """`DATASET_EXISTS`, `METRIC_EXISTS`, ... for a kind of definition."""
        return cls(f"{kind.upper()}_EXISTS")

    @classmethod
    def not_found(cls, kind: str) -> ErrorCode:
        """`DATASET_NOT_FOUND`, `METRIC_NOT_FOUND`, ... for a kind of definition."""
        return cls(f"{kind.upper()}_NOT_FOUND")


class AppError(Exception):
    status: int = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
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
    status, code = 401, ErrorCode.UNAUTHENTICATED

    def __init__(self, message: str = "a valid API key is required (Authorization: Bearer <key>)") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status, code = 403, ErrorCode.FORBIDDEN


class NotFound(AppError):
    status, code = 404, ErrorCode.NOT_FOUND


class Conflict(AppError):
    status, code = 409, ErrorCode.CONFLICT


class Gone(AppError):
    status, code = 410, ErrorCode.GONE


class PreconditionFailed(AppError):
    status, code = 412, ErrorCode.PRECONDITION_FAILED


class PreconditionRequired(AppError):
    status, code = 428, ErrorCode.PRECONDITION_REQUIRED


class PayloadTooLarge(AppError):
    status, code = 413, ErrorCode.PAYLOAD_TOO_LARGE


class Invalid(AppError):
    """The request is well-formed JSON but says something that cannot be accepted."""

    status, code = 422, ErrorCode.INVALID

    def __init__(self, message: str, *, pointer: str | None = None, code: ErrorCode | None = None, details: Any = None):
        if pointer is not None:
            details = {"pointer": pointer, **(details or {})}
        super().__init__(message, code=code, details=details)


class QueryTimeout(AppError):
    status, code = 504, ErrorCode.QUERY_TIMEOUT


class SourceUnavailable(AppError):
    status, code = 503, ErrorCode.SOURCE_UNAVAILABLE


class SourceError(AppError):
    status, code = 502, ErrorCode.SOURCE_ERROR


class Internal(AppError):
    """A failure Yardstick did not foresee: the request id names it in the server log."""

    status, code = 500, ErrorCode.INTERNAL

    def __init__(self) -> None:
        super().__init__("an internal error occurred; the request id names it in the server log")


class RegistryUnavailable(AppError):
    """The registry database cannot be reached (connection lost, refused, pool exhausted): retry shortly."""

    status, code = 503, ErrorCode.REGISTRY_UNAVAILABLE

    def __init__(self, message: str = "the registry database is not reachable; retry shortly", retry_after: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


def malformed_json(reason: str) -> Invalid:
    """The body is not JSON (not UTF-8, or not parseable): the same 422 on every route."""
    return Invalid(f"body: {reason}", pointer="", code=ErrorCode.MALFORMED_JSON)


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str
    details: Any = Field(description="what the code needs said: `pointer` (JSON pointer of the bad field) and `errors` on 422s; null when there is nothing")


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    400: "the request cannot be read",
    401: "no valid API key (Authorization: Bearer <key>)",
    403: "the caller's roles do not allow this",
    404: "not found",
    409: "conflicts with the current state",
    410: "gone",
    412: "If-Match names a version that is no longer current",
    413: "the request body is too large",
    422: "the request says something that cannot be accepted; `details.pointer` names the first bad field",
    428: "If-Match is required",
    502: "the source answered an error",
    503: "the source or the registry is unavailable",
    504: "the query took too long",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer: one shared schema."""
    return {s: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[s]} for s in statuses}


def pointer_of(loc: tuple) -> str:
    return "/" + "/".join(str(part) for part in loc) if loc else ""


# Validators that raise `PydanticCustomError(code.lower(), ...)` for these codes carry them in the 422.
CUSTOM_CODES = (ErrorCode.QUERY_LIMIT_EXCEEDED, ErrorCode.INVALID_FILTER_VALUE)
PYDANTIC_CODES = {"extra_forbidden": ErrorCode.UNKNOWN_FIELD, "missing": ErrorCode.MISSING_FIELD, "json_invalid": ErrorCode.MALFORMED_JSON,
                  **{code.lower(): code for code in CUSTOM_CODES}}


def invalid_from_pydantic(errors: list[dict[str, Any]], *, skip: frozenset[str] = frozenset()) -> Invalid:
    """A 422 naming the first bad field by JSON pointer, with every problem in details."""
    problems = []
    for err in errors:
        loc = tuple(part for part in err.get("loc", ()) if part not in skip)
        kind = err.get("type", "")
        # A validator that raised an error with its own code and fragment (an expression check) keeps them.
        raised = (err.get("ctx") or {}).get("error")
        own = getattr(raised, "code", None)
        code = own if isinstance(own, ErrorCode) else PYDANTIC_CODES.get(kind, ErrorCode.INVALID_FIELD)
        problem = {"pointer": pointer_of(loc), "code": code, "message": err.get("msg", "")}
        if isinstance(getattr(raised, "fragment", None), str):
            problem["fragment"] = raised.fragment
        problems.append(problem)
    first = problems[0] if problems else {"pointer": "", "code": ErrorCode.INVALID_FIELD, "message": "invalid"}
    extra = {"fragment": first["fragment"]} if "fragment" in first else {}
    return Invalid(f"{first['pointer'] or 'body'}: {first['message']}", pointer=first["pointer"], code=first["code"], details={**extra, "errors": problems})
