"""A small keep-alive HTTP/1.1 load generator on raw asyncio streams, run in its own processes.

Bounded in time and in requests; loopback only. Each worker process runs `connections`
clients that send the same request back to back and record every latency.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from urllib.parse import urlsplit


async def _client(host: str, port: int, raw: bytes, until: float, latencies: list[float], errors: list[int], cap: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until and len(latencies) < cap:
            started = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def _worker(args) -> tuple[list[float], list[int]]:
    url, headers, body, connections, seconds, cap = args
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}", f"Content-Length: {len(body)}",
             "Content-Type: application/json", "Connection: keep-alive", *[f"{k}: {v}" for k, v in headers.items()]]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    latencies: list[float] = []
    errors: list[int] = []

    async def main():
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_client(parts.hostname, parts.port, raw, until, latencies, errors, cap) for _ in range(connections)))

    asyncio.run(main())
    return latencies, errors


def run_load(url: str, headers: dict[str, str], body: bytes, *, clients: int = 50, seconds: float = 5.0,
             processes: int = 2, cap: int = 200_000) -> dict:
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(_worker, [(url, headers, body, n, seconds, cap) for n in per])
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = [e for _, err in results for e in err]
    measured = max(seconds, 1e-9)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / measured,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1e3,
        "errors": len(errors),
        "wall_s": elapsed,
    }
