"""Shared machinery for engines whose driver blocks: a thread pool per source and interrupts.

Each source gets its own small pool, so a slow query on one source cannot take the
threads another source needs; a timeout interrupts the running statement.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.engines.base import Engine, Result, row_limit_exceeded
from app.errors import AppError, QueryTimeout, SourceUnavailable
from app.reach import Reach

log = logging.getLogger(__name__)

UNWIND_SECONDS = 1.0  # how long a timed-out query may take to notice its interrupt
INTERRUPT_EVERY = 0.2  # seconds between interrupts of a statement that has not stopped yet


class _Run:
    """One query's handle, so the event loop can interrupt it only while it runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handle: Any = None
        self.cancelled = False

    def start(self, handle: Any) -> bool:
        with self._lock:
            self._handle = handle
            return not self.cancelled

    def finish(self) -> None:
        with self._lock:
            self._handle = None

    def cancel(self, interrupt) -> None:
        with self._lock:
            self.cancelled = True
            if self._handle is not None:
                interrupt(self._handle)


class ThreadedEngine(Engine):
    """An engine over a blocking DB-API driver: subclasses open handles and map errors."""

    def __init__(self, url: str, *, reach: Reach | None = None, max_workers: int = 4) -> None:
        super().__init__(url, reach=reach)
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix=f"yardstick-{self.kind}")

    @abstractmethod
    def _open(self) -> Any:
        """A handle (connection or cursor) for one query, in the calling worker thread."""

    @abstractmethod
    def _release(self, handle: Any) -> None:
        """Give back what `_open` returned."""

    @abstractmethod
    def _interrupt(self, handle: Any) -> None:
        """Stop the statement running on `handle`; called from the event loop thread."""

    @abstractmethod
    def _translate(self, exc: Exception, text: str) -> AppError | None:
        """The AppError for a driver exception (`text` is its scrubbed message), or None."""

    async def execute(
        self, sql: str, params: Sequence[Any], *, timeout: float, max_rows: int
    ) -> Result:
        run = _Run()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor, self._run, run, sql, tuple(params), timeout, max_rows)
        except RuntimeError:  # the executor was shut down: the source was closed or reconfigured
            raise SourceUnavailable("the source was closed; retry the request") from None
        future.add_done_callback(_consume)
        try:
            done, _ = await asyncio.wait({future}, timeout=timeout)
        except asyncio.CancelledError:
            self._stop(run, future)
            raise
        if not done:
            self._stop(run, future)
            await asyncio.wait({future}, timeout=UNWIND_SECONDS)
            raise QueryTimeout(f"the query did not finish within {timeout:g} s")
        if future.cancelled():  # dropped from the queue because the engine was closed
            raise SourceUnavailable("the source was closed; retry the request")
        return future.result()

    def _stop(self, run: _Run, future: asyncio.Future) -> None:
        """Interrupt the statement, and again until it has stopped: an interrupt that arrives
        before the driver has started the statement is lost (DuckDB, SQLite and Spark alike)."""
        if not future.done():
            run.cancel(self._interrupt)
            asyncio.get_running_loop().call_later(INTERRUPT_EVERY, self._stop, run, future)

    def _fetch(self, handle: Any, sql: str, params: tuple, *, timeout: float,
               limit: int) -> tuple[list[str], Sequence[Sequence[Any]]]:
        """Run one statement on `handle`: its column names and at most `limit` rows (DB-API)."""
        cursor = handle.execute(sql, params)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchmany(limit) if columns else []
        cursor.close()
        return columns, rows

    def _run(self, run: _Run, sql: str, params: tuple, timeout: float, max_rows: int) -> Result:
        handle = self._open_or_fail()
        try:
            if not run.start(handle):
                raise QueryTimeout("the query was cancelled before it started")
            columns, rows = self._fetch(handle, sql, params, timeout=timeout, limit=max_rows + 1)
        except Exception as exc:
            raise self._fail(exc, run) from None
        finally:
            run.finish()
            self._release(handle)
        if len(rows) > max_rows:
            raise row_limit_exceeded(max_rows)
        return Result(columns=columns, rows=[tuple(r) for r in rows])

    def _open_or_fail(self) -> Any:
        try:
            return self._open()
        except AppError:
            raise
        except Exception as exc:
            raise self._fail(exc, None) from None

    def _fail(self, exc: Exception, run: _Run | None) -> Exception:
        if isinstance(exc, AppError):
            return exc
        if run is not None and run.cancelled:
            return QueryTimeout("the query was interrupted at its time limit")
        error = self._translate(exc, self.scrub(str(exc)))
        if error is None:
            return exc
        log.info("%s source error: %s", self.kind, error.message)
        return error

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _consume(future: asyncio.Future) -> None:
    """Retrieve a late exception so asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()
