"""Pure ASGI middleware: request id, access log and Prometheus metrics, body size limit."""

from __future__ import annotations

import json
import logging
import re
import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram

from app.errors import ErrorCode, Invalid, PayloadTooLarge
from app.ops.logs import request_id

log = logging.getLogger("yardstick.access")
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


async def send_error(send, error) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContext:
    """Gives each request an id (echoed as X-Request-ID), logs one JSON line, counts it."""

    def __init__(self, app, telemetry: Telemetry) -> None:
        self.app, self.telemetry = app, telemetry

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        rid = given if given and REQUEST_ID.match(given) else os.urandom(16).hex()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.telemetry.observe(scope["method"], route, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                state = scope.get("state") or {}
                log.info(
                    "request",
                    extra={"fields": {"method": scope["method"], "route": route, "status": status,
                                      "ms": round(elapsed * 1000, 2), "caller": state.get("caller")}},
                )
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
