"""A saturated source answers 503 with Retry-After within a second; other sources keep answering."""

from __future__ import annotations

import asyncio
import time

import duckdb
import pytest

from app.engines.base import Engine
from tests.helpers import bearer, make_domain, make_source, ok


class Slow(Engine):
    """Wraps a real engine and holds every query for a while: a saturated warehouse."""

    kind, dialect = "duckdb", "duckdb"

    def __init__(self, inner: Engine, delay: float) -> None:
        self.inner, self.delay = inner, delay

    async def execute(self, sql, params, *, timeout, max_rows):
        await asyncio.sleep(self.delay)
        return await self.inner.execute(sql, params, timeout=timeout, max_rows=max_rows)

    async def close(self) -> None:
        await self.inner.close()


def warehouse(path) -> str:
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT i AS id, i % 3 AS grp, i * 1.0 AS v FROM range(100) r(i)")
    return f"duckdb://{path}"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"source_max_concurrency": 1, "source_max_queue": 1, "source_queue_timeout_seconds": 0.5})


async def test_saturated_source_refuses_fast_while_another_answers(client, admin_key, app, tmp_path):
    await make_domain(client, admin_key, "ops")
    for name in ("slow", "fast"):
        await make_source(client, admin_key, name, warehouse(tmp_path / f"{name}.duckdb"))
        await ok(await client.post("/v1/datasets", json={
            "name": f"{name}_t", "domain": "ops", "source": name, "table": "t",
            "columns": [{"name": "id", "type": "integer"}, {"name": "grp", "type": "integer", "dimension": True}, {"name": "v", "type": "float"}],
        }, headers=bearer(admin_key)), 201)
        await ok(await client.post("/v1/metrics", json={
            "key": f"ops.{name}", "name": name, "domain": "ops", "owner": "ops", "type": "simple",
            "dataset": f"{name}_t", "measure": "SUM(v)", "cache_ttl": 0,
        }, headers=bearer(admin_key)), 201)

    pool = app.state.queries.engines
    real_get = pool.get

    async def get(source, url):
        engine = await real_get(source, url)
        return Slow(engine, 3.0) if source == "slow" else engine

    pool.get = get

    async def timed(metric, value):
        started = time.monotonic()
        body = {"metrics": [metric], "filters": [{"dimension": f"{metric.split('.')[1]}_t.grp", "op": "ne", "values": [value]}]}
        response = await client.post("/v1/query", json=body, headers=bearer(admin_key))
        return response, time.monotonic() - started

    slow = [asyncio.create_task(timed("ops.slow", i)) for i in range(5)]
    await asyncio.sleep(0.05)
    fast, fast_took = await timed("ops.fast", 9)
    assert fast.status_code == 200 and fast_took < 1.0
    assert fast.json()["rows"] == [[sum(i * 1.0 for i in range(100))]]

    results = await asyncio.gather(*slow)
    refused = [(r, took) for r, took in results if r.status_code == 503]
    answered = [r for r, _ in results if r.status_code == 200]
    assert len(answered) == 1 and len(refused) == 4, [r.status_code for r, _ in results]
    for response, took in refused:
        assert took < 1.0
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "SOURCE_SATURATED"
