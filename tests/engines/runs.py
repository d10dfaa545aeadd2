"""Watching a threaded engine's worker: how each statement ended, so a test can tell that a
timeout stopped the statement itself and not only the caller's wait."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from app.engines.threaded import ThreadedEngine

GUARD = 60.0  # seconds; only turns a statement that never stops into a failure


class Runs:
    """Records the outcome (a Result or the exception) of every statement run on `engine`."""

    def __init__(self, engine: ThreadedEngine) -> None:
        self.outcomes: list[Any] = []
        self.started, self._ended = threading.Event(), threading.Event()
        run, fetch = engine._run, engine._fetch

        def watched_fetch(*args, **kwargs):
            self.started.set()
            return fetch(*args, **kwargs)

        def watched_run(*args):
            try:
                outcome = run(*args)
            except BaseException as exc:
                outcome = exc
                raise
            finally:
                self.outcomes.append(outcome)
                self._ended.set()
            return outcome

        engine._run, engine._fetch = watched_run, watched_fetch

    async def ended(self) -> Any:
        """The outcome of the one statement run so far, once it has stopped (the event loop keeps
        running meanwhile: the engine interrupts from there)."""
        assert await asyncio.to_thread(self._ended.wait, GUARD), "the statement is still running"
        (outcome,) = self.outcomes
        return outcome
