"""Shared machinery for engines whose driver blocks: a thread pool per source and interrupts.

Each source gets its own small pool, so a slow query on one source cannot take the
threads another source needs. A timed-out query answers 504 at its time limit (plus at most
UNWIND_SECONDS) whatever its driver does: the interrupt runs on a thread of its own, never
on the event loop, because a driver's interrupt may block too (Trino's is an HTTP call,
Spark Connect's an RPC). A worker whose driver ignores the interrupt is "stuck" until the
driver returns; while half a source's workers are stuck, it refuses new queries at once (503).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from abc import abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.engines.base import Engine, Result, row_limit_exceeded
from app.errors import AppError, QueryTimeout, SourceUnavailable
from app.reach import Reach

log = logging.getLogger(__name__)

UNWIND_SECONDS = 1.0  # how long a timed-out query may take to notice its interrupt
INTERRUPT_EVERY = 0.2  # first pause between interrupts of a statement that has not stopped yet
INTERRUPT_PAUSE_MAX = 5.0  # the pause doubles up to this
INTERRUPT_FOR = 60.0  # seconds after which a statement that ignores its interrupts is left to its driver


class _Run:
    """One query's handle, shared by its worker and the interrupts sent to it: whichever of them
    finishes last gives the handle back, so a slow interrupt never holds the worker up and never
    touches a handle that was given back."""

    def __init__(self, release: Callable[[Any], None]) -> None:
        self._lock = threading.Lock()
        self._release = release
        self._handle: Any = None
        self._users = 0
        self.cancelled = False
        self.ended = threading.Event()  # the worker has returned

    def start(self, handle: Any) -> bool:
        """Lend the worker's handle to interrupts; False (the handle given back) once cancelled."""
        with self._lock:
            if not self.cancelled:
                self._handle, self._users = handle, 1
                return True
        self._release(handle)
        return False

    def cancel(self) -> bool:
        """Mark the run cancelled; True the first time."""
        with self._lock:
            first, self.cancelled = not self.cancelled, True
            return first

    def interrupt(self, interrupt: Callable[[Any], None], kind: str) -> None:
        """Interrupt the statement, if it runs; a failing interrupt is logged, never raised."""
        with self._lock:
            if self._handle is None:
                return
            handle, self._users = self._handle, self._users + 1
        try:
            interrupt(handle)
        except Exception as exc:  # noqa: BLE001 - an interrupt is best effort; the caller already has its 504
            log.warning("interrupting a %s query failed: %s", kind, type(exc).__name__)
        finally:
            self._leave()

    def finish(self) -> None:
        """The worker is done with its handle (after a successful `start`)."""
        self._leave()

    def _leave(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users:
                return
            handle, self._handle = self._handle, None
        self._release(handle)


class ThreadedEngine(Engine):
    """An engine over a blocking DB-API driver: subclasses open handles and map errors."""

    def __init__(self, url: str, *, reach: Reach | None = None, max_workers: int = 4) -> None:
        super().__init__(url, reach=reach)
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix=f"yardstick-{self.kind}")
        self._max_stuck = max(1, max_workers // 2)
        self._stuck = 0  # workers still busy past their query's time limit (event loop only)

    @abstractmethod
    def _open(self) -> Any:
        """A handle (connection or cursor) for one query, in the calling worker thread."""

    @abstractmethod
    def _release(self, handle: Any) -> None:
        """Give back what `_open` returned (in the worker, or in the interrupt thread if it ends last)."""

    @abstractmethod
    def _interrupt(self, handle: Any) -> None:
        """Stop the statement running on `handle`; called from an interrupt thread, and may block."""

    @abstractmethod
    def _translate(self, exc: Exception, text: str) -> AppError | None:
        """The AppError for a driver exception (`text` is its scrubbed message), or None."""

    async def execute(
        self, sql: str, params: Sequence[Any], *, timeout: float, max_rows: int
    ) -> Result:
        if self._stuck >= self._max_stuck:
            raise self._clogged(timeout)
        run = _Run(self._release)
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
        """Cancel the run and interrupt it from a daemon thread; a worker still busy
        UNWIND_SECONDS later counts as stuck until it returns."""
        if future.done() or not run.cancel():
            return
        threading.Thread(target=self._interrupt_until_ended, args=(run,), daemon=True,
                         name=f"yardstick-{self.kind}-interrupt").start()
        asyncio.get_running_loop().call_later(UNWIND_SECONDS, self._watch, future)

    def _interrupt_until_ended(self, run: _Run) -> None:
        """Interrupt, and again until the worker returns: an interrupt that arrives before the
        driver has started the statement is lost (DuckDB, SQLite and Spark alike)."""
        pause, waited = INTERRUPT_EVERY, 0.0
        while waited < INTERRUPT_FOR:
            run.interrupt(self._interrupt, self.kind)
            if run.ended.wait(pause):
                return
            waited += pause
            pause = min(pause * 2, INTERRUPT_PAUSE_MAX)
        log.warning("a %s query ignored its interrupts for %g s; its worker stays busy until the driver returns",
                    self.kind, INTERRUPT_FOR)

    def _watch(self, future: asyncio.Future) -> None:
        if not future.done():
            self._stuck += 1
            log.warning("a %s query is still running past its time limit (%d stuck)", self.kind, self._stuck)
            future.add_done_callback(self._unstick)

    def _unstick(self, _: asyncio.Future) -> None:
        self._stuck -= 1

    def _clogged(self, timeout: float) -> SourceUnavailable:
        return SourceUnavailable(
            f"{self._stuck} queries on this source are still running past their time limit; "
            "it takes new queries once they stop",
            details={"stuck_queries": self._stuck}, headers={"Retry-After": str(max(1, math.ceil(timeout)))},
        )

    def _fetch(self, handle: Any, sql: str, params: tuple, *, timeout: float,
               limit: int) -> tuple[list[str], Sequence[Sequence[Any]]]:
        """Run one statement on `handle`: its column names and at most `limit` rows (DB-API)."""
        cursor = handle.execute(sql, params)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchmany(limit) if columns else []
        cursor.close()
        return columns, rows

    def _run(self, run: _Run, sql: str, params: tuple, timeout: float, max_rows: int) -> Result:
        try:
            if run.cancelled:  # waited in the queue past its time limit: do not even connect
                raise QueryTimeout("the query was cancelled before it started")
            handle = self._open_or_fail()
            if not run.start(handle):
                raise QueryTimeout("the query was cancelled before it started")
            try:
                columns, rows = self._fetch(handle, sql, params, timeout=timeout, limit=max_rows + 1)
            except Exception as exc:
                raise self._fail(exc, run) from None
            finally:
                run.finish()
        finally:
            run.ended.set()
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
