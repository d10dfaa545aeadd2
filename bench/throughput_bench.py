"""Cached-query throughput with 50 concurrent clients, against a bare FastAPI endpoint that
answers the same JSON from the same server settings (one uvicorn worker, loopback)."""

from __future__ import annotations

import json
import statistics

import httpx

from bench.fixture import QUERY, make_world, register_sales
from bench.load import run_load
from bench.server import serve


def run(full: bool) -> dict:
    seconds = 10.0 if full else 3.0
    rounds = 3 if full else 2
    world = make_world(200_000)
    body = json.dumps(QUERY).encode()
    headers = {"Authorization": f"Bearer {world.admin_key}"}
    results: dict[str, list[dict]] = {"yardstick": [], "bare": []}
    with serve("app.main:create_app", world.env) as (base, _pid):
        register_sales(base, world, cache_ttl=3600)
        answer = httpx.post(f"{base}/v1/query", content=body, headers={**headers, "Content-Type": "application/json"}).content
        check = json.loads(httpx.post(f"{base}/v1/query", content=body, headers={**headers, "Content-Type": "application/json"}).content)
        assert check["cache"] == "hit"
        answer_file = world.dir / "answer.json"
        answer_file.write_bytes(answer.replace(b'"miss"', b'"hit"'))
        with serve("bench.bare_app:create_app", {"BENCH_BODY_FILE": str(answer_file)}) as (bare, _):
            for _ in range(rounds):
                results["bare"].append(run_load(f"{bare}/v1/query", headers, body, seconds=seconds))
                results["yardstick"].append(run_load(f"{base}/v1/query", headers, body, seconds=seconds))
    summary = {name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms")} | {
        "rps_low": min(r["rps"] for r in runs), "rps_high": max(r["rps"] for r in runs), "errors": sum(r["errors"] for r in runs)}
        for name, runs in results.items()}
    summary["ratio"] = summary["yardstick"]["rps"] / summary["bare"]["rps"]
    summary["seconds"], summary["rounds"] = seconds, rounds
    return summary


def report(result: dict) -> list[str]:
    lines = [
        "## Throughput", "",
        f"50 concurrent keep-alive clients in two separate processes, {result['seconds']:.0f} s per round, "
        f"{result['rounds']} rounds each, interleaved; one uvicorn worker; the metric's answer is cached.", "",
        "| endpoint | requests/s median (min–max) | p50 | p99 | non-200 |", "|---|---|---|---|---|",
    ]
    for name, label in (("bare", "bare FastAPI, same JSON (baseline)"), ("yardstick", "POST /v1/query, cached")):
        r = result[name]
        lines.append(f"| {label} | {r['rps']:.0f} ({r['rps_low']:.0f}–{r['rps_high']:.0f}) | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['errors']} |")
    lines += ["", f"Headline: cached throughput is **{result['ratio'] * 100:.0f}%** of the bare endpoint (target ≥ 70%).", ""]
    return lines
