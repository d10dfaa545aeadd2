"""How fast the service says no: hostile GraphQL documents, queries past their time limit, and
a saturated source. The suite checks that each refusal happens and what work it costs; the
time it takes is measured here (the suite's old bounds are the targets).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import duckdb
import httpx

from app.config import Settings
from app.engines import create_engine
from app.engines.gate import SourceGates
from app.errors import AppError, QueryTimeout
from app.main import create_app
from app.reach import Reach
from bench.fixture import World, make_world
from bench.stats import Timing, summarise, time_async

TIMEOUT = 0.5  # the engine time limit and the queue timeout measured below
SLOW = {
    "duckdb": "SELECT count(*) FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = 7",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000000) SELECT count(*) FROM n",
}


def _bomb(levels: int) -> str:
    frags = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return "query { ...F0 } " + " ".join([*frags, f"fragment F{levels} on Query {{ domains {{ name }} }}"])


DOCUMENTS = {
    "fragment bomb (2**60 fields)": _bomb(60),
    "1,000 aliases": "{ " + " ".join(f"a{i}: domains {{ name }}" for i in range(1000)) + " }",
    "2,000 tokens": "{ " + "domains { name } " * 600 + "}",
    "50 levels deep": "{ " + "metrics { " * 50 + "key" + " }" * 50 + " }",
    "batch of 100": None,
}


async def _graphql(root: Path, world: World, runs: int) -> dict[str, Timing]:
    settings = Settings(environment="test", database_url=world.env["YARDSTICK_DATABASE_URL"], var_dir=root / "var",
                        secret_key="bench-" + uuid.uuid4().hex)
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {world.admin_key}"}
    out = {}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers) as client:
            await client.post("/graphql", json={"query": "{ domains { name } }"})  # warm
            for name, document in DOCUMENTS.items():
                body = [{"query": "{ domains { name } }"}] * 100 if document is None else {"query": document}

                async def refuse() -> None:
                    answer = await client.post("/graphql", json=body)
                    assert answer.status_code == 400 or answer.json().get("errors"), answer.text

                out[name] = await time_async(refuse, runs)
    finally:
        await app.state.shutdown()
    return out


def _warehouses(root: Path) -> dict[str, str]:
    with duckdb.connect(str(root / "slow.duckdb")) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS i")
    with sqlite3.connect(root / "slow.db") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (i INTEGER)")
    conn.close()
    return {"duckdb": f"duckdb://{root / 'slow.duckdb'}", "sqlite": f"sqlite://{root / 'slow.db'}"}


async def _timeouts(root: Path, runs: int) -> dict[str, Timing]:
    out = {}
    for kind, url in _warehouses(root).items():
        engine = create_engine(url, Reach.for_sources(Settings(source_data_dirs=[root])))
        await engine.execute("SELECT 1", [], timeout=5, max_rows=1)  # connection open
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            try:
                await engine.execute(SLOW[kind], [], timeout=TIMEOUT, max_rows=1)
            except QueryTimeout:
                samples.append(time.perf_counter() - started)
        await engine.close()
        out[kind] = summarise(samples)
    return out


async def _saturated(runs: int) -> dict[str, Timing]:
    """One query holds the only slot; one waits in the queue; the next finds the queue full."""
    full, queued = [], []
    for _ in range(runs):
        gates, release = SourceGates(1, 1, TIMEOUT), asyncio.Event()

        async def hold() -> None:
            async with gates.slot("s"):
                await release.wait()

        async def refused() -> float:
            started = time.perf_counter()
            try:
                async with gates.slot("s"):
                    pass
            except AppError:
                return time.perf_counter() - started
            raise AssertionError("not refused")

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiting = asyncio.create_task(refused())
        await asyncio.sleep(0)
        full.append(await refused())
        queued.append(await waiting)
        release.set()
        await holder
    return {"queue full": summarise(full), "queue timeout": summarise(queued)}


def run(full: bool) -> dict:
    runs = 21 if full else 7
    root = Path(tempfile.mkdtemp(prefix="yardstick-bench-refusal-"))
    world = make_world(1_000, workdir=root)  # a migrated registry and an admin key

    async def everything() -> dict:
        return {"graphql": await _graphql(root, world, runs), "timeouts": await _timeouts(root, runs), "saturated": await _saturated(runs)}

    return asyncio.run(everything())


def report(result: dict) -> list[str]:
    lines = ["## Refusals", "",
             "How long a refusal takes, in process (GraphQL over ASGI, engines and the source gate called directly).", "",
             "| refusal | time | target |", "|---|---|---|"]
    for name, t in result["graphql"].items():
        lines.append(f"| GraphQL: {name} | {t.ms()} | < 1 s |")
    for kind, t in result["timeouts"].items():
        lines.append(f"| {kind} query past a {TIMEOUT:g} s limit: QueryTimeout after | {t.ms()} | < {TIMEOUT + 1:g} s |")
    for name, t in result["saturated"].items():
        lines.append(f"| saturated source, {name} ({TIMEOUT:g} s queue timeout): 503 after | {t.ms()} | < 1 s |")
    return [*lines, ""]
