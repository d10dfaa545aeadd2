"""Back-pressure per source: at most N queries run on a source at once, at most M wait.

A request that finds the queue full, or waits longer than the queue timeout, is refused
with 503 and Retry-After, so a saturated source fails fast while other sources answer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.errors import ErrorCode, SourceUnavailable


class _Gate:
    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.waiting = 0


class SourceGates:
    def __init__(self, max_concurrency: int, max_queue: int, queue_timeout: float) -> None:
        self.max_concurrency, self.max_queue, self.queue_timeout = max_concurrency, max_queue, queue_timeout
        self._gates: dict[str, _Gate] = {}

    def _refuse(self, source: str, why: str) -> SourceUnavailable:
        retry = str(max(1, math.ceil(self.queue_timeout)))
        return SourceUnavailable(
            f"source '{source}' is saturated ({why}); retry later", code=ErrorCode.SOURCE_SATURATED,
            details={"source": source, "max_concurrency": self.max_concurrency, "max_queue": self.max_queue},
            headers={"Retry-After": retry},
        )

    @asynccontextmanager
    async def slot(self, source: str) -> AsyncIterator[None]:
        gate = self._gates.setdefault(source, _Gate(self.max_concurrency))
        if gate.slots.locked():
            if gate.waiting >= self.max_queue:
                raise self._refuse(source, f"{self.max_queue} requests already waiting")
            gate.waiting += 1
            try:
                await asyncio.wait_for(gate.slots.acquire(), self.queue_timeout)
            except TimeoutError:
                raise self._refuse(source, f"no slot within {self.queue_timeout:g} s") from None
            finally:
                gate.waiting -= 1
        else:
            await gate.slots.acquire()
        try:
            yield
        finally:
            gate.slots.release()
