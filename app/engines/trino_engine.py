"""Trino through its DB-API driver: `trino://user@host:8080/catalog/schema`.

`trino+https://user:password@host:443/catalog/schema` uses TLS and basic authentication.
Parameters go through the driver's prepared statements (`?`), never into the SQL text.
The server enforces `query_max_run_time`; a timeout also cancels the query (an HTTP call, made
from an interrupt thread), and the rest of the result is cancelled once max_rows+1 rows have been
read. Every HTTP call is bounded by the query's time limit, so a coordinator that accepts and
never answers holds a worker for a few time limits at most (the driver retries), never longer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from app.engines.threaded import UNWIND_SECONDS, ThreadedEngine
from app.errors import AppError, ErrorCode, Invalid, QueryTimeout, SourceError, SourceUnavailable
from app.reach import Reach, Target

REQUEST_TIMEOUT = 30.0  # seconds for one HTTP call, at most; a shorter time limit shortens it
# Recursive CTEs (the compiler's date spines) are unrolled by Trino up to this depth (its default is 10).
MAX_RECURSION_DEPTH = 1000
_TIMEOUT_ERRORS = {"EXCEEDED_TIME_LIMIT", "USER_CANCELED", "ADMINISTRATIVELY_KILLED"}


class _Query:
    """The cursor of one running query, so an interrupt thread can cancel it."""

    def __init__(self) -> None:
        self.cursor: Any = None


class TrinoEngine(ThreadedEngine):
    kind = "trino"
    dialect = "trino"

    def __init__(self, url: str, *, reach: Reach | None = None, max_workers: int = 4) -> None:
        super().__init__(url, reach=reach, max_workers=max_workers)
        parts = urlsplit(url)
        path = [unquote(p) for p in parts.path.strip("/").split("/") if p]
        secure = parts.scheme.lower() == "trino+https"
        self._args: dict[str, Any] = {
            "host": self._target.host, "port": self._target.port,
            "user": unquote(parts.username or "yardstick"), "http_scheme": "https" if secure else "http",
            "catalog": path[0] if path else None, "schema": path[1] if len(path) > 1 else None,
            "source": "yardstick",
        }
        self._password = unquote(parts.password) if parts.password else None

    @classmethod
    def target(cls, url: str) -> Target:
        parts = urlsplit(url)
        if len([p for p in parts.path.strip("/").split("/") if p]) > 2 or not parts.hostname:
            raise Invalid("a Trino source URL is trino://user@host:port/catalog/schema", code=ErrorCode.INVALID_SOURCE_URL)
        return Target(host=parts.hostname, port=parts.port or (443 if parts.scheme.lower() == "trino+https" else 8080))

    def _open(self) -> _Query:
        return _Query()

    def _release(self, handle: _Query) -> None:
        if handle.cursor is not None:
            handle.cursor.connection.close()

    def _interrupt(self, handle: _Query) -> None:
        if handle.cursor is not None:
            handle.cursor.cancel()

    def _connect(self, timeout: float) -> Any:
        import trino.auth  # optional: the `trino` extra
        import trino.dbapi

        self.check_reach()
        auth = trino.auth.BasicAuthentication(self._args["user"], self._password) if self._password else None
        properties = {"query_max_run_time": f"{max(1, math.ceil(timeout))}s",
                      "max_recursion_depth": str(MAX_RECURSION_DEPTH)}
        return trino.dbapi.connect(**self._args, auth=auth, session_properties=properties,
                                   request_timeout=min(REQUEST_TIMEOUT, timeout + UNWIND_SECONDS))

    def _fetch(self, handle: _Query, sql: str, params: tuple, *, timeout: float,
               limit: int) -> tuple[list[str], Sequence[Sequence[Any]]]:
        handle.cursor = self._connect(timeout).cursor()
        handle.cursor.execute(sql, list(params))
        rows = handle.cursor.fetchmany(limit)
        columns = [d[0] for d in handle.cursor.description or ()]
        if len(rows) == limit:
            handle.cursor.cancel()  # the caller refuses the answer: free the cluster
        return columns, rows

    def _translate(self, exc: Exception, text: str) -> AppError | None:
        import trino.exceptions as errors

        if isinstance(exc, errors.TrinoQueryError):
            if exc.error_name in _TIMEOUT_ERRORS:
                return QueryTimeout(f"the query did not finish within its time limit: {text[:300]}")
            if exc.error_name in ("PERMISSION_DENIED", "CATALOG_NOT_FOUND", "SERVER_STARTING_UP"):
                return SourceUnavailable(f"Trino refused the source: {text[:500]}")
            return SourceError(f"Trino rejected the query: {text[:1000]}")
        if isinstance(exc, (errors.HttpError, errors.TrinoConnectionError, errors.TrinoAuthError,
                            errors.OperationalError, ConnectionError, OSError)):
            return SourceUnavailable(f"Trino is not reachable: {text[:500] or type(exc).__name__}")
        if type(exc).__module__.startswith(("trino", "requests", "urllib3")):
            return SourceUnavailable(f"Trino is not reachable: {text[:500] or type(exc).__name__}")
        return None
