"""Pure ASGI middleware: request id, access log and Prometheus metrics, failures answered, body
size limit, OPTIONS, and the key production mode asks for the contract and telemetry."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Match, Mount

from app.db import connection_lost
from app.errors import AppError, ErrorCode, Internal, Invalid, PayloadTooLarge, RegistryUnavailable, Unauthenticated
from app.ops.logs import request_id

log = logging.getLogger("yardstick.access")
Authenticate = Callable[[str], Awaitable[Any]]  # an Authorization header -> the caller (with a .name), or Unauthenticated
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Telemetry:
    """Per-app Prometheus collectors (a registry each, so several apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("yardstick_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("yardstick_http_request_seconds", "HTTP request latency", ["method", "route"], registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request; the labelled children are looked up once per (method, route, status)."""
        children = self._children.get((method, route, status))
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._children[(method, route, status)] = children
        children[0].inc()
        children[1].observe(seconds)


async def send_json(send, status: int, content, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(content).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_error(send, error: AppError) -> None:
    await send_json(send, error.status, error.body(), error.headers)


def as_answer(exc: Exception) -> AppError:
    """What a caller is told about an exception nothing else answered."""
    if isinstance(exc, AppError):
        return exc
    return RegistryUnavailable() if connection_lost(exc) else Internal()


def cause_of(exc: Exception) -> str:
    """The driver's own words for a failure (never SQL parameters: they may hold secrets)."""
    cause = exc.__cause__ or exc
    cause = getattr(cause, "orig", None) or cause
    return f"{type(cause).__name__}: {cause}"[:300]


class RequestContext:
    """Gives each request an id (echoed as X-Request-ID on every answer, errors included), answers
    an exception nothing else did (503 REGISTRY_UNAVAILABLE or 500 INTERNAL) without dropping the
    connection, and logs one JSON line per request, with the traceback when it failed; counts it.

    It is the outermost middleware, so no exception reaches the server: one that did would be
    logged a second time, without the request id, and the server would close the connection.
    """

    def __init__(self, app, telemetry: Telemetry) -> None:
        self.app, self.telemetry = app, telemetry

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        rid = given if given and REQUEST_ID.match(given) else os.urandom(16).hex()
        token = request_id.set(rid)
        started_at = time.perf_counter()
        status, started = 500, False

        async def send_with_id(message):
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        failure: Exception | None = None
        answer: AppError | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # noqa: BLE001 - answered here, never re-raised (see the class docstring)
            failure, answer = exc, as_answer(exc)
            if not started:
                await send_error(send_with_id, answer)
        finally:
            elapsed = time.perf_counter() - started_at
            route = getattr(scope.get("route"), "path", "unmatched")
            self.telemetry.observe(scope["method"], route, status, elapsed)
            unexpected = isinstance(answer, Internal)
            level = logging.ERROR if unexpected else logging.WARNING if failure is not None else logging.INFO
            if log.isEnabledFor(level):
                state = scope.get("state") or {}
                fields = {"method": scope["method"], "route": route, "status": status,
                          "ms": round(elapsed * 1000, 2), "caller": state.get("caller")}
                if failure is not None and not unexpected:
                    fields["error"] = cause_of(failure)
                log.log(level, "request", exc_info=failure if unexpected else None, extra={"fields": fields})
            request_id.reset(token)


class RefuseNul:
    """NUL cannot be stored or compared by PostgreSQL: refuse it in paths and query strings."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")):
            return await send_error(send, Invalid("NUL characters are not accepted", pointer="url", code=ErrorCode.INVALID_CHARACTER))
        return await self.app(scope, receive, send)


class BodyLimit:
    """Refuses bodies over `max_bytes` with 413, whether or not Content-Length is sent."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = PayloadTooLarge(f"the request body is over {self.max_bytes} bytes", details={"max_bytes": self.max_bytes})
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await send_error(send, too_large)
        seen, rejected = 0, False

        async def counted():
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request" and not rejected:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Answer 413 now and tell the app the client went away; its own answer is dropped.
                    rejected = True
                    await send_error(send, too_large)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not rejected:
                await send(message)

        await self.app(scope, counted, guarded_send)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(routes, scope) -> list[str]:
    """Every method some route answers at this request's path, OPTIONS included; [] for no route.

    The routes of one path are declared one per method, so the framework's own 405 names only the
    first; this asks every route about every method.
    """
    found = []
    for method in METHODS:
        probe = {"type": "http", "method": method, "path": scope["path"], "root_path": scope.get("root_path", ""), "headers": []}
        for route in routes:
            match, _ = route.matches(probe)
            if match == Match.FULL and (method in ("GET", "HEAD") or not isinstance(route, Mount)):  # mounts serve files
                found.append(method)
                break
    return [*found, "OPTIONS"] if found else []


class Options:
    """OPTIONS answers 204 with an `Allow` header naming every method of the path; an unknown path is a 404."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            allowed = allowed_methods(scope["app"].router.routes, scope)
            if allowed:
                await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", ", ".join(allowed).encode())]})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


class KeyRequired:
    """Production mode: the contract, the docs pages, GraphQL (introspection included) and /metrics
    answer only a caller with a live API key (401 otherwise; GraphQL's in its own error shape)."""

    def __init__(self, app, authenticate: Authenticate, paths: tuple[str, ...], graphql: str) -> None:
        self.app, self.authenticate, self.paths, self.graphql = app, authenticate, paths, graphql

    def _guarded(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.paths)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self._guarded(scope["path"]):
            header = next((v for k, v in scope["headers"] if k == b"authorization"), b"").decode("latin-1")
            try:
                await self.authenticate(header)
            except Unauthenticated as exc:
                if scope["path"] == self.graphql:
                    return await send_json(send, exc.status, {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}, exc.headers)
                return await send_error(send, exc)
        await self.app(scope, receive, send)
