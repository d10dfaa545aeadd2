"""The contract rules every route shares, applied in one place.

Operation ids are the camelCase of each route's name (`list_metrics` -> `listMetrics`). What
the middleware answers before a route runs is added to the generated document here: a body
that cannot be read (400) or is too large (413) on every operation that takes one, the
Idempotency-Key header (and its 409) on every POST, and 503 REGISTRY_UNAVAILABLE wherever a key
is checked (checking it needs the registry).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.errors import ERROR_DESCRIPTIONS

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
IDEMPOTENCY_REF = {"$ref": "#/components/parameters/IdempotencyKey"}


def idempotency_key(max_length: int) -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": max_length},
        "description": "the same key and body, from the same principal calling with a live key, replay the first successful "
                       "answer (header Idempotent-Replayed: true) without its secrets: a replayed key creation answers the "
                       "ids, not the api_key, which is shown once. Concurrent requests with one key run once: the others "
                       "wait for its answer, or answer 409 IDEMPOTENCY_IN_PROGRESS (Retry-After) after 10 s. The same key "
                       "with another body is a 422 IDEMPOTENCY_KEY_REUSED; a request that fails can be retried with its key.",
    }


def operation_id(route: APIRoute) -> str:
    """`list_metrics` -> `listMetrics`: one rule for every route."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _error(status: int) -> dict[str, Any]:
    return {"description": ERROR_DESCRIPTIONS[status], "content": {"application/json": {"schema": ERROR_REF}}}


def add_middleware_contract(document: dict[str, Any], idempotency_key_length: int) -> dict[str, Any]:
    """400 and 413 where a body is read, Idempotency-Key and 409 on POSTs (idempotent: safe to apply
    twice), 503 on operations that check a key."""
    document.setdefault("components", {}).setdefault("parameters", {})["IdempotencyKey"] = idempotency_key(idempotency_key_length)
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if "requestBody" in operation:
                for status in ("400", "413"):
                    operation["responses"].setdefault(status, _error(int(status)))
            if method == "post":
                operation["responses"].setdefault("409", _error(409))
                parameters = operation.setdefault("parameters", [])
                if IDEMPOTENCY_REF not in parameters:
                    parameters.append(IDEMPOTENCY_REF)
            if operation.get("security") != []:
                operation["responses"].setdefault("503", _error(503))
    return document


def install(app: FastAPI, *, idempotency_key_length: int) -> None:
    """Make `app.openapi()` answer the document with the shared rules applied."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return add_middleware_contract(generate(), idempotency_key_length)

    app.openapi = openapi  # type: ignore[method-assign]
