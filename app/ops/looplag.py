"""The event loop's lag, sampled by the app: how late a timer due every `interval` seconds fires.

Anything that blocks the loop (a compile, a driver call) shows here as lag, and /healthz would
wait as long; `yardstick_event_loop_lag_seconds` exposes the latest sample to Prometheus.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from prometheus_client import CollectorRegistry, Gauge

RECENT = 600  # samples kept for inspection (a minute at the default interval)


class LoopLag:
    def __init__(self, registry: CollectorRegistry, interval: float = 0.1) -> None:
        self.interval = interval
        self.gauge = Gauge("yardstick_event_loop_lag_seconds", "How late the last event-loop timer fired", registry=registry)
        self.worst = Gauge("yardstick_event_loop_lag_max_seconds", "The largest event-loop lag sampled since start", registry=registry)
        self.recent: deque[float] = deque(maxlen=RECENT)
        self.samples = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sample())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        worst = 0.0
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            lag = max(0.0, loop.time() - due)
            worst = max(worst, lag)
            self.recent.append(lag)
            self.samples += 1
            self.gauge.set(lag)
            self.worst.set(worst)
