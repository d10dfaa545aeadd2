"""Two server processes on one PostgreSQL registry and one Redis cache answer consistently:
a definition changed through replica A is used by the very next query through replica B."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import duckdb
import httpx
import pytest
import redis

from app.migrate import upgrade
from tests.helpers import bootstrap_key

PG_URL = os.environ.get("YARDSTICK_TEST_DATABASE_URL", "")
REDIS_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.no_registry,
    pytest.mark.skipif(not PG_URL, reason="needs YARDSTICK_TEST_DATABASE_URL (CI sets it)"),
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _replica(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode()[-2000:])
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("replica did not start")


@pytest.fixture
def registry():
    name = f"ys_replicas_{uuid.uuid4().hex[:8]}"
    admin_url = PG_URL.replace("+asyncpg", "")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = f"{PG_URL.rpartition('/')[0]}/{name}"
    upgrade(url)

    yield url, asyncio.run(bootstrap_key(url))
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_change_on_a_is_answered_by_b(registry, tmp_path):
    url, key = registry
    redis.Redis.from_url(REDIS_URL).flushdb()
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE TABLE t AS SELECT i AS id, (i % 7)::DOUBLE AS v FROM range(1000) r(i)")
    base_sum = sum(float(i % 7) for i in range(1000))
    env = {"YARDSTICK_DATABASE_URL": url, "YARDSTICK_CACHE_URL": REDIS_URL, "YARDSTICK_ENVIRONMENT": "test",
           "YARDSTICK_SECRET_KEY": "replica-test-secret", "YARDSTICK_VAR_DIR": str(tmp_path / "var")}  # the warehouse lies outside var/
    replicas = [_replica(env), _replica(env)]
    try:
        (_, a), (_, b) = replicas
        h = {"Authorization": f"Bearer {key}"}
        with httpx.Client(headers=h, timeout=30) as http:
            for path, body in (
                ("/v1/domains", {"name": "ops"}),
                ("/v1/sources", {"name": "wh", "url": f"duckdb://{warehouse}"}),
                ("/v1/datasets", {"name": "t", "domain": "ops", "source": "wh", "table": "t",
                                  "columns": [{"name": "id", "type": "integer"}, {"name": "v", "type": "float"}]}),
                ("/v1/metrics", {"key": "ops.total", "name": "Total", "domain": "ops", "owner": "ops", "type": "simple",
                                 "dataset": "t", "measure": "SUM(v * 1)", "cache_ttl": 3600}),
            ):
                assert http.post(a + path, json=body).status_code == 201
            query = {"metrics": ["ops.total"]}
            assert http.post(b + "/v1/query", json=query).json()["rows"] == [[base_sum]]
            for k in range(2, 102):
                etag = http.get(f"{a}/v1/metrics/ops.total").headers["etag"]
                changed = http.patch(f"{a}/v1/metrics/ops.total", json={"measure": f"SUM(v * {k})"}, headers={"If-Match": etag})
                assert changed.status_code == 200, changed.text
                answer = http.post(b + "/v1/query", json=query).json()
                assert answer["rows"] == [[base_sum * k]], (k, answer)
                assert answer["metrics"][0]["version"] == k
                again = http.post(a + "/v1/query", json=query).json()
                assert again["rows"] == [[base_sum * k]] and again["cache"] == "hit"  # B's entry, shared through Redis
    finally:
        for process, _ in replicas:
            process.terminate()
            process.wait(10)
