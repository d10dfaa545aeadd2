"""Cached-query throughput with 50 concurrent clients, against a bare FastAPI endpoint that
answers the same JSON from the same server settings (one uvicorn worker, loopback).

Besides requests per second, each server's CPU time per answered request is read from
/proc: on a machine shared with other work the rates swing with the load, the CPU cost much less."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import httpx

from bench.fixture import QUERY, make_world, register_sales
from bench.load import run_load
from bench.server import serve


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(url: str, pid: int, headers: dict[str, str], body: bytes, seconds: float) -> dict:
    before = cpu_seconds(pid)
    result = run_load(url, headers, body, seconds=seconds)
    return result | {"cpu_us": (cpu_seconds(pid) - before) / max(result["requests"], 1) * 1e6}


def run(full: bool) -> dict:
    seconds = 10.0 if full else 3.0
    rounds = 3 if full else 2
    world = make_world(200_000)
    body = json.dumps(QUERY).encode()
    headers = {"Authorization": f"Bearer {world.admin_key}"}
    results: dict[str, list[dict]] = {"yardstick": [], "bare": []}
    with serve("app.main:create_app", world.env) as (base, pid):
        register_sales(base, world, cache_ttl=3600)
        answer = httpx.post(f"{base}/v1/query", content=body, headers={**headers, "Content-Type": "application/json"}).content
        check = json.loads(httpx.post(f"{base}/v1/query", content=body, headers={**headers, "Content-Type": "application/json"}).content)
        assert check["cache"] == "hit"
        answer_file = world.dir / "answer.json"
        answer_file.write_bytes(answer.replace(b'"miss"', b'"hit"'))
        with serve("bench.bare_app:create_app", {"BENCH_BODY_FILE": str(answer_file)}) as (bare, bare_pid):
            for _ in range(rounds):
                results["bare"].append(measured(f"{bare}/v1/query", bare_pid, headers, body, seconds))
                results["yardstick"].append(measured(f"{base}/v1/query", pid, headers, body, seconds))
    summary = {name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")} | {
        "rps_low": min(r["rps"] for r in runs), "rps_high": max(r["rps"] for r in runs), "errors": sum(r["errors"] for r in runs)}
        for name, runs in results.items()}
    summary["ratio"] = summary["yardstick"]["rps"] / summary["bare"]["rps"]
    summary["cpu_ratio"] = summary["bare"]["cpu_us"] / summary["yardstick"]["cpu_us"]
    summary["seconds"], summary["rounds"] = seconds, rounds
    return summary


def report(result: dict) -> list[str]:
    lines = [
        "## Throughput", "",
        f"50 concurrent keep-alive clients in two separate processes, {result['seconds']:.0f} s per round, "
        f"{result['rounds']} rounds each, interleaved; one uvicorn worker; the metric's answer is cached.", "",
        "| endpoint | requests/s median (min–max) | p50 | p99 | server CPU per request | non-200 |", "|---|---|---|---|---|---|",
    ]
    for name, label in (("bare", "bare FastAPI, same JSON (baseline)"), ("yardstick", "POST /v1/query, cached")):
        r = result[name]
        lines.append(f"| {label} | {r['rps']:.0f} ({r['rps_low']:.0f}–{r['rps_high']:.0f}) | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms "
                     f"| {r['cpu_us']:.0f} µs | {r['errors']} |")
    lines += ["", f"Headline: cached throughput is **{result['ratio'] * 100:.0f}%** of the bare endpoint (target ≥ 70%); "
              f"per request the bare endpoint uses {result['cpu_ratio'] * 100:.0f}% of the CPU time /v1/query uses.", ""]
    return lines
