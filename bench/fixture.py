"""A benchmark world: a fact table in DuckDB, a migrated registry, an admin key, a server env."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx

from app.audit import service as audit
from app.auth.service import bootstrap_admin
from app.config import get_settings
from app.db import Database
from app.migrate import upgrade

REGIONS = ["East", "North", "South", "West", "Central"]


def build_facts(path: Path, rows: int) -> None:
    """`sales(order_id, region, ordered_at, amount)`, deterministic, two years of timestamps."""
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as conn:
        conn.execute(f"""
            CREATE TABLE sales AS
            SELECT i AS order_id,
                   (['East', 'North', 'South', 'West', 'Central'])[1 + (hash(i) % 5)::INTEGER] AS region,
                   TIMESTAMP '2025-01-01' + to_seconds((hash(i * 7) % (730 * 86400))::BIGINT) AS ordered_at,
                   ((hash(i * 13) % 100000) / 100.0)::DECIMAL(12, 2) AS amount
            FROM range({rows}) t(i)
        """)
    tmp.rename(path)


@dataclass
class World:
    dir: Path
    facts: Path
    admin_key: str
    env: dict[str, str]


def make_world(rows: int, registry_url: str | None = None, workdir: Path | None = None) -> World:
    root = workdir or Path(tempfile.mkdtemp(prefix="yardstick-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    facts = root / "warehouse" / f"facts-{rows}.duckdb"  # root is the var directory: its warehouse is a data directory
    facts.parent.mkdir(exist_ok=True)
    build_facts(facts, rows)
    url = registry_url or f"sqlite+aiosqlite:///{root}/registry.db"
    upgrade(url)

    async def admin() -> str:
        db = Database(url, session_info=audit.session_info(get_settings()))
        try:
            async with db.session(write=True) as session:
                return await bootstrap_admin(session, "bench-admin")
        finally:
            await db.dispose()

    key = asyncio.run(admin())
    env = {"YARDSTICK_DATABASE_URL": url, "YARDSTICK_VAR_DIR": str(root), "YARDSTICK_LOG_LEVEL": "WARNING",
           "YARDSTICK_QUERY_TIMEOUT_SECONDS": "120", "YARDSTICK_ENVIRONMENT": "test"}
    return World(root, facts, key, env)


def register_sales(base: str, world: World, *, cache_ttl: int) -> None:
    """Source, domain, dataset and the metric `bench.amount` (SUM(amount)) through the API."""
    h = {"Authorization": f"Bearer {world.admin_key}"}
    with httpx.Client(base_url=base, headers=h, timeout=60) as c:
        for path, body in (
            ("/v1/domains", {"name": "bench"}),
            ("/v1/sources", {"name": "facts", "url": f"duckdb://{world.facts}"}),
            ("/v1/datasets", {"name": "sales", "domain": "bench", "source": "facts", "table": "sales", "time_column": "ordered_at",
                              "columns": [{"name": "order_id", "type": "integer"}, {"name": "region", "type": "string", "dimension": True},
                                          {"name": "ordered_at", "type": "timestamp"}, {"name": "amount", "type": "decimal"}]}),
            ("/v1/metrics", {"key": "bench.amount", "name": "Amount", "domain": "bench", "owner": "bench", "unit": "CNY",
                             "type": "simple", "dataset": "sales", "measure": "SUM(amount)", "cache_ttl": cache_ttl}),
        ):
            response = c.post(path, json=body)
            if response.status_code not in (201, 409):
                raise RuntimeError(f"{path}: {response.status_code} {response.text}")


QUERY = {"metrics": ["bench.amount"], "dimensions": ["sales.region"], "time": {"grain": "month", "start": "2025-01-01", "end": "2027-01-01"}}
