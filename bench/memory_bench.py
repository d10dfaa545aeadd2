"""Resident memory of one server process with 10k metrics registered and warm.

Warm: every metric listed through the catalog (all pages) and read once. The baseline is
the same server's RSS right after start, on the same registry, in the same run.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from app.audit import service as audit
from app.auth.service import bootstrap_admin
from app.config import get_settings
from app.db import Database
from app.migrate import upgrade
from bench.registry_bench import fresh_database, populate
from bench.server import rss_mb, serve


async def prepare(n: int) -> tuple[str, str]:
    url = await fresh_database(f"yardstick_bench_mem_{n}")
    await asyncio.to_thread(upgrade, url)
    db = Database(url, session_info=audit.session_info(get_settings()))
    try:
        await populate(db, n)
        async with db.session(write=True) as session:
            await session.execute(text("INSERT INTO domains (name, description, created_at) VALUES ('bench', '', now())"))
            key = await bootstrap_admin(session, "bench-admin")
    finally:
        await db.dispose()
    return url, key


def run(full: bool) -> dict:
    n = 10_000
    url, key = asyncio.run(prepare(n))
    env = {"YARDSTICK_DATABASE_URL": url, "YARDSTICK_LOG_LEVEL": "WARNING", "YARDSTICK_ENVIRONMENT": "test"}
    with serve("app.main:create_app", env) as (base, pid):
        start = rss_mb(pid)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            cursor, listed = None, 0
            while True:
                page = client.get("/v1/metrics", params={"limit": 500, **({"cursor": cursor} if cursor else {})}).json()
                listed += len(page["items"])
                cursor = page["next_cursor"]
                if not cursor:
                    break
            step = 1 if full else 10
            for i in range(0, n, step):
                client.get(f"/v1/metrics/bench.m{i:06d}").raise_for_status()
        warm = rss_mb(pid)
    return {"metrics": n, "listed": listed, "start_mb": start, "warm_mb": warm, "read": n // (1 if full else 10)}


def report(result: dict) -> list[str]:
    return [
        "## Memory", "",
        f"One server process, registry on PostgreSQL with {result['metrics']:,} metrics × 10 versions; "
        f"all {result['listed']:,} listed through the catalog and {result['read']:,} read one by one.", "",
        "| state | RSS |", "|---|---|",
        f"| just started (baseline) | {result['start_mb']:.0f} MB |",
        f"| warm | {result['warm_mb']:.0f} MB |", "",
        f"Headline: **{result['warm_mb']:.0f} MB** warm (target ≤ 200 MB), {result['warm_mb'] / result['start_mb']:.2f}× the fresh process.", "",
    ]
