"""Timing helpers: repeated measurements summarised as median with min–max."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    median: float
    low: float
    high: float
    runs: int

    def ms(self) -> str:
        return f"{self.median * 1e3:.3f} ms ({self.low * 1e3:.3f}–{self.high * 1e3:.3f})"

    def us(self) -> str:
        return f"{self.median * 1e6:.1f} µs ({self.low * 1e6:.1f}–{self.high * 1e6:.1f})"


def summarise(samples: list[float]) -> Timing:
    return Timing(statistics.median(samples), min(samples), max(samples), len(samples))


def time_sync(fn: Callable[[], object], runs: int, inner: int = 1) -> Timing:
    """Each sample is the mean of `inner` calls (for microsecond-scale work)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - started) / inner)
    return summarise(samples)


async def time_async(fn: Callable[[], Awaitable[object]], runs: int) -> Timing:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return summarise(samples)
