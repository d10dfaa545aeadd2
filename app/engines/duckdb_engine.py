"""DuckDB files, opened read-only in a sandbox: no file system, no ATTACH, no extensions.

One read-only connection per engine; each query gets its own cursor in a worker thread
so it can be interrupted alone. Checked on DuckDB 2.0.1: the sandbox refuses read_csv, glob,
ATTACH, INSTALL, COPY … TO and turning external access back on.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from app.engines.base import file_path
from app.engines.threaded import ThreadedEngine
from app.errors import AppError, SourceError, SourceUnavailable
from app.reach import Reach, Target


class DuckDBEngine(ThreadedEngine):
    kind = "duckdb"
    dialect = "duckdb"

    def __init__(self, url: str, *, reach: Reach | None = None, max_workers: int = 4) -> None:
        super().__init__(url, reach=reach, max_workers=max_workers)
        self._path = file_path(url)
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    @classmethod
    def target(cls, url: str) -> Target:
        return Target(path=file_path(url))

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._conn is None:
                self.check_reach()
                conn = duckdb.connect(
                    self._path, read_only=True, config={"enable_external_access": False}
                )
                conn.execute("SET lock_configuration = true")
                self._conn = conn
            return self._conn

    def _open(self) -> duckdb.DuckDBPyConnection:
        return self._connection().cursor()

    def _release(self, handle: duckdb.DuckDBPyConnection) -> None:
        handle.close()

    def _interrupt(self, handle: duckdb.DuckDBPyConnection) -> None:
        handle.interrupt()

    def _translate(self, exc: Exception, text: str) -> AppError | None:
        if not isinstance(exc, duckdb.Error):
            return None
        if self._conn is None:
            return SourceUnavailable(f"the DuckDB database cannot be opened: {text}")
        return SourceError(f"DuckDB rejected the query: {text}")

    async def close(self) -> None:
        await super().close()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
