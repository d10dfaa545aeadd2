"""End-to-end overhead: POST /v1/query over HTTP against DuckDB running the same SQL in-process.

The metric has cache_ttl 0, so every request runs the query; the baseline is the SQL that
/v1/query/sql answers, executed with its parameters on the same file in this process.
"""

from __future__ import annotations

import duckdb
import httpx

from bench.fixture import QUERY, make_world, register_sales
from bench.server import serve
from bench.stats import Timing, time_sync


def run(full: bool) -> dict:
    rows = 10_000_000 if full else 1_000_000
    runs = 11 if full else 5
    world = make_world(rows)
    with serve("app.main:create_app", world.env) as (base, _pid):
        register_sales(base, world, cache_ttl=0)
        headers = {"Authorization": f"Bearer {world.admin_key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            compiled = client.post("/v1/query/sql", json=QUERY).json()["queries"][0]
            answer = client.post("/v1/query", json=QUERY).json()  # warm: engine open, plan cached
            with duckdb.connect(str(world.facts), read_only=True) as conn:
                direct_rows = conn.execute(compiled["sql"], compiled["params"]).fetchall()
                assert len(direct_rows) == len(answer["rows"]), "HTTP and direct answers differ"
                interleaved_http, interleaved_direct = [], []
                for _ in range(runs):  # interleaved so drift affects both alike
                    interleaved_direct.append(time_sync(lambda: conn.execute(compiled["sql"], compiled["params"]).fetchall(), 1).median)
                    interleaved_http.append(time_sync(lambda: client.post("/v1/query", json=QUERY).raise_for_status(), 1).median)
    from bench.stats import summarise

    http, direct = summarise(interleaved_http), summarise(interleaved_direct)
    return {"rows": rows, "http": http, "direct": direct, "ratio": http.median / direct.median, "result_rows": len(answer["rows"])}


def report(result: dict) -> list[str]:
    http: Timing = result["http"]
    direct: Timing = result["direct"]
    return [
        "## Overhead", "",
        f"Month × region SUM over a {result['rows']:,}-row DuckDB table ({result['result_rows']} result rows), result cache off.", "",
        "| path | time |", "|---|---|",
        f"| DuckDB in-process, same SQL and parameters (baseline) | {direct.ms()} |",
        f"| POST /v1/query over HTTP (auth, load definitions, compile, execute, serialise) | {http.ms()} |", "",
        f"Headline: overhead ratio **{result['ratio']:.3f}** (target ≤ 1.05).", "",
    ]
