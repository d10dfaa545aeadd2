"""A saturated source answers 503 with Retry-After while its running query still holds the slot;
other sources keep answering. How fast a refusal comes is measured in bench/."""

from __future__ import annotations

import asyncio

import duckdb
import pytest

from app.engines.base import Engine
from app.reach import Target
from tests.helpers import bearer, make_domain, make_source, ok

GUARD = 60  # seconds; only turns a hang into a failure (the queue timeout below is 0.5 s)


class Held(Engine):
    """Wraps a real engine and holds every query until released: a saturated warehouse."""

    kind, dialect = "duckdb", "duckdb"

    def __init__(self, inner: Engine, entered: asyncio.Event, release: asyncio.Event) -> None:
        self.inner, self.entered, self.release = inner, entered, release

    @classmethod
    def target(cls, url: str) -> Target:
        return Target()  # a wrapper: the engine it holds checks its own reach

    async def execute(self, sql, params, *, timeout, max_rows):
        self.entered.set()
        await self.release.wait()
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


async def test_saturated_source_refuses_while_another_answers(client, admin_key, app, tmp_path):
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

    entered, release = asyncio.Event(), asyncio.Event()
    pool = app.state.queries.engines
    real_get = pool.get

    async def get(source, url):
        engine = await real_get(source, url)
        return Held(engine, entered, release) if source == "slow" else engine

    pool.get = get

    async def query(metric, value):
        body = {"metrics": [metric], "filters": [{"dimension": f"{metric.split('.')[1]}_t.grp", "op": "ne", "values": [value]}]}
        return await client.post("/v1/query", json=body, headers=bearer(admin_key))

    async with asyncio.timeout(GUARD):
        slow = [asyncio.create_task(query("ops.slow", i)) for i in range(5)]
        await entered.wait()  # one slow query holds the source's only slot
        fast = await query("ops.fast", 9)
        assert fast.status_code == 200 and fast.json()["rows"] == [[sum(i * 1.0 for i in range(100))]]
        pending = set(slow)
        while len(pending) > 1:  # three find the queue full, one waits out the queue timeout ...
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        refused = [t.result() for t in slow if t not in pending]  # ... all while the slot is held
        release.set()
        answered = [await t for t in pending]

    assert [r.status_code for r in answered] == [200] and len(refused) == 4, [r.status_code for r in refused]
    for response in refused:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "SOURCE_SATURATED"
