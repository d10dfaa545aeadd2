"""ClickHouse: a server through clickhouse-connect (HTTP), or embedded in-process through chdb.

`clickhouse://user:pass@host:8123/db` (`clickhouse+https://…` for TLS) reaches a server;
`clickhouse+chdb:///abs/dir` opens a chdb data directory read-only in this process (chdb
embeds one server per process, so one directory per process). Parameters are bound
server-side as `{p0:Type}`; the time limit and the row cap are ClickHouse settings, so the
server itself stops the query and sends at most a block past the cap.

chdb runs with `readonly=1`, which refuses table functions (`file()`, `url()`, `s3()`, `remote()`)
and every write (chdb 4.4). That mode also refuses a query's own SETTINGS clause, so the limits
are settings of the connection, reopened when a query asks for other limits.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from app.engines.base import file_path, named
from app.engines.threaded import ThreadedEngine
from app.errors import AppError, QueryTimeout, SourceError, SourceUnavailable
from app.reach import Reach, Target

CONNECT_TIMEOUT = 10
_CODE = re.compile(r"Code: (\d+)")
_TIMEOUT_CODES = {"159", "160", "209", "394"}  # TIMEOUT_EXCEEDED, TOO_SLOW, SOCKET_TIMEOUT, QUERY_WAS_CANCELLED
# authentication failed, unknown user, wrong password, unknown database, too many connections
_UNAVAILABLE_CODES = {"516", "192", "193", "194", "81", "202", "203"}


def query_settings(timeout: float, limit: int) -> dict[str, Any]:
    """Per-query settings: standard LEFT JOIN NULLs, a server-side time limit and row cap."""
    return {
        "join_use_nulls": 1,  # unmatched LEFT JOIN columns are NULL, not the type's default
        "max_execution_time": max(0.1, round(timeout, 3)),
        "timeout_overflow_mode": "throw",
        "max_result_rows": limit,
        "result_overflow_mode": "break",  # stop reading, answer what was read; the engine checks the cap
    }


class ClickHouseEngine(ThreadedEngine):
    kind = "clickhouse"
    dialect = "clickhouse"

    def __init__(self, url: str, *, reach: Reach | None = None, max_workers: int = 4) -> None:
        super().__init__(url, reach=reach, max_workers=max_workers)
        parts = urlsplit(url)
        self._embedded = parts.scheme.lower() == "clickhouse+chdb"
        if self._embedded:
            self._path = file_path(url)
            self._conn: Any = None
            self._conn_settings: dict[str, Any] = {}
            self._conn_lock = threading.Lock()
        else:
            self._client_args = {
                "host": self._target.host,
                "port": self._target.port,
                "username": unquote(parts.username or "default"),
                "password": unquote(parts.password or ""),
                "database": unquote(parts.path.lstrip("/")) or None,
                "secure": parts.scheme.lower() == "clickhouse+https",
                "connect_timeout": CONNECT_TIMEOUT,
                "autogenerate_session_id": False,  # one client per thread, no server session state
            }
            self._local = threading.local()
            self._clients: list[Any] = []
            self._clients_lock = threading.Lock()

    @classmethod
    def target(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme.lower() == "clickhouse+chdb":
            return Target(path=file_path(url))
        secure = parts.scheme.lower() == "clickhouse+https"
        return Target(host=parts.hostname or "localhost", port=parts.port or (8443 if secure else 8123))

    # -- handles ------------------------------------------------------------------------------
    def _open(self) -> Any:
        """A server client; for chdb nothing yet: its connection depends on the query's limits (`_chdb`)."""
        return None if self._embedded else self._client()

    def _chdb(self, settings: dict[str, Any]) -> Any:
        """The chdb connection with these limits, read-only and sandboxed; the caller holds `_conn_lock`."""
        if self._conn is not None and self._conn_settings == settings:
            return self._conn
        self._close_chdb()
        self.check_reach()
        import chdb  # optional: the `chdb` extra

        try:
            self._conn = chdb.connect(f"file:{self._path}?{urlencode({'mode': 'ro', 'readonly': 1, **settings})}")
        except Exception as exc:  # noqa: BLE001 - chdb raises RuntimeError/ChdbError alike
            raise SourceUnavailable(f"the chdb directory cannot be opened: {self.scrub(str(exc))}") from None
        self._conn_settings = settings
        return self._conn

    def _close_chdb(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            self.check_reach()
            import clickhouse_connect  # optional: the `clickhouse` extra

            client = clickhouse_connect.get_client(**{k: v for k, v in self._client_args.items() if v is not None})
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _release(self, handle: Any) -> None:
        """Handles stay open for the next query."""

    def _interrupt(self, handle: Any) -> None:
        """Nothing to do: `max_execution_time` makes ClickHouse stop the query itself."""

    # -- one query ----------------------------------------------------------------------------
    def _fetch(self, handle: Any, sql: str, params: tuple, *, timeout: float,
               limit: int) -> tuple[list[str], Sequence[Sequence[Any]]]:
        settings = query_settings(timeout, limit)
        if not self._embedded:
            result = handle.query(sql, parameters=named(params), settings=settings)
            return list(result.column_names), result.result_rows[:limit]
        with self._conn_lock:  # a chdb connection runs one query at a time
            conn = self._chdb(settings)
            try:
                table = conn.query(sql, "arrowtable", params=_escaped(named(params)))
            except Exception:
                # chdb 4.4: after a failed query (a timeout) the connection's next Arrow answer is
                # corrupt ("Invalid flatbuffers message"); start the next query on a fresh connection.
                self._close_chdb()
                raise
        return list(table.column_names), _rows(table, limit)

    def _translate(self, exc: Exception, text: str) -> AppError | None:
        if not _is_driver_error(exc):
            return None
        code = (m.group(1) if (m := _CODE.search(text)) else None)
        if code in _TIMEOUT_CODES:
            return QueryTimeout(f"the query did not finish within its time limit: {text[:300]}")
        if code in _UNAVAILABLE_CODES or type(exc).__name__ == "OperationalError":
            return SourceUnavailable(f"ClickHouse is not reachable: {text}")
        return SourceError(f"ClickHouse rejected the query: {text}")

    async def close(self) -> None:
        await super().close()
        if self._embedded:
            with self._conn_lock:
                self._close_chdb()
            return
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()


def _is_driver_error(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith(("chdb", "clickhouse_connect")) or isinstance(exc, RuntimeError)


def _escaped(params: dict[str, Any]) -> dict[str, Any]:
    """ClickHouse reads a string parameter in escaped text form; chdb passes it as is (unlike
    clickhouse-connect), so a backslash in a value must be doubled to arrive unchanged."""
    return {k: v.replace("\\", "\\\\") if isinstance(v, str) else v for k, v in params.items()}


def _rows(table: Any, limit: int) -> list[tuple[Any, ...]]:
    """Arrow columns as row tuples; timestamps come back UTC-aware from chdb and are made naive."""
    import pyarrow as pa

    table = table.slice(0, limit)
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp(column.type.unit))
        columns.append(column.to_pylist())
    return list(zip(*columns)) if columns else []
