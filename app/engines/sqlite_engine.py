"""SQLite files through the standard library, read-only, with an authorizer as a sandbox.

`mode=ro` stops writes; the authorizer also refuses ATTACH, PRAGMA and anything that is
not a read, so a query cannot reach another file on disk.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from app.engines.base import file_path
from app.engines.threaded import ThreadedEngine
from app.errors import AppError, SourceError, SourceUnavailable
from app.reach import Reach, Target

_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def _authorize(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY


class SQLiteEngine(ThreadedEngine):
    kind = "sqlite"
    dialect = "sqlite"

    def __init__(self, url: str, *, reach: Reach | None = None, max_workers: int = 4) -> None:
        super().__init__(url, reach=reach, max_workers=max_workers)
        self._uri = Path(file_path(url)).as_uri() + "?mode=ro"
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @classmethod
    def target(cls, url: str) -> Target:
        return Target(path=file_path(url))

    def _open(self) -> sqlite3.Connection:
        """The worker thread's own connection, opened on its first query."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.check_reach()
            try:
                conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise SourceUnavailable(f"the SQLite database cannot be opened: {self.scrub(str(exc))}") from None
            conn.set_authorizer(_authorize)
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def _release(self, handle: sqlite3.Connection) -> None:
        """Connections stay with their thread; nothing to give back."""

    def _interrupt(self, handle: sqlite3.Connection) -> None:
        handle.interrupt()

    def _translate(self, exc: Exception, text: str) -> AppError | None:
        if not isinstance(exc, sqlite3.Error):
            return None
        if "unable to open" in text or "file is not a database" in text:
            return SourceUnavailable(f"the SQLite database cannot be read: {text}")
        return SourceError(f"SQLite rejected the query: {text}")

    async def close(self) -> None:
        await super().close()
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
