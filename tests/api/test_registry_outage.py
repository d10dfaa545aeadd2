"""A registry that goes away answers 503 REGISTRY_UNAVAILABLE with Retry-After, not 500, and error
answers keep the connection open (a real server on loopback). (Issue 12, finding 10.)"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import Request

from tests.conftest import BACKEND, PG_URL, _plain, registry_copy
from tests.helpers import bearer, make_principal, ok

KILLS = 10  # connection kills during the storm, one every 0.1 s
WRITES = 120


@dataclass
class Registry:
    url: str
    handle: Path | str  # the SQLite file, or the PostgreSQL database name

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(_plain(PG_URL))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def kill_connections(self) -> None:
        await self._admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.handle}' AND pid <> pg_backend_pid()")

    async def away(self, app) -> None:
        """No connection can be had: the SQLite file's folder is gone; PostgreSQL refuses connections."""
        if BACKEND == "sqlite":
            await app.state.db.engine.dispose()
            self.handle.parent.rename(self.handle.parent.with_name("gone"))
            return
        await self._admin(f'ALTER DATABASE "{self.handle}" ALLOW_CONNECTIONS false')
        await self.kill_connections()

    async def back(self) -> None:
        if BACKEND == "sqlite":
            gone = self.handle.parent.with_name("gone")
            if gone.exists():
                gone.rename(self.handle.parent)
            return
        await self._admin(f'ALTER DATABASE "{self.handle}" ALLOW_CONNECTIONS true')


@pytest.fixture
async def registry(registry_template, tmp_path):
    folder = tmp_path / "registry"
    folder.mkdir()
    async with registry_copy(registry_template, folder) as (url, handle):
        registry = Registry(url, handle)
        yield registry
        await registry.back()


@pytest.fixture
def database_url(registry):
    return registry.url


@pytest.fixture
async def served(app):
    """The app on a real server (uvicorn, loopback), with a route that names the client's port."""

    async def peer(request: Request) -> dict:
        return {"port": request.client.port}

    async def boom() -> dict:
        raise RuntimeError("unforeseen")

    app.add_api_route("/test-only/peer", peer)
    app.add_api_route("/test-only/boom", boom)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", limits=limits) as one_connection:
        yield one_connection
    server.should_exit = True
    await task
    sock.close()


def unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.json()["error"]["code"] == "REGISTRY_UNAVAILABLE"
    assert response.headers["retry-after"] == "1" and response.headers["x-request-id"]


async def test_a_registry_that_goes_away_answers_503_and_recovers(app, client, admin_key, registry):
    await ok(await client.get("/v1/domains", headers=bearer(admin_key)))
    await registry.away(app)
    app.state.callers.forget()
    for method, path, body in (("GET", "/v1/domains", None), ("POST", "/v1/domains", {"name": "sales"}),
                               ("GET", "/v1/metrics", None), ("GET", "/readyz", None),
                               ("POST", "/graphql", {"query": "{ domains { name } }"})):
        unavailable(await client.request(method, path, json=body, headers=bearer(admin_key)))
    keyed = await client.post("/v1/domains", json={"name": "sales"}, headers={**bearer(admin_key), "Idempotency-Key": "k"})
    unavailable(keyed)
    await registry.back()
    await ok(await client.post("/v1/domains", json={"name": "sales"}, headers={**bearer(admin_key), "Idempotency-Key": "k"}), 201)
    assert [d["name"] for d in (await ok(await client.get("/v1/domains", headers=bearer(admin_key))))["items"]] == ["sales"]


async def test_error_answers_keep_the_connection_open(app, served, admin_key, registry):
    port = (await ok(await served.get("/test-only/peer")))["port"]
    failed = await served.get("/test-only/boom", headers={"X-Request-ID": "boom-1"})
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "INTERNAL" and failed.headers["x-request-id"] == "boom-1"
    assert failed.headers.get("connection") != "close"
    assert (await served.get("/v1/nothing-here")).status_code == 404
    assert (await served.get("/v1/metrics?limit=0", headers=bearer(admin_key))).status_code == 422
    await registry.away(app)
    app.state.callers.forget()
    unavailable(await served.get("/v1/domains", headers=bearer(admin_key)))
    await registry.back()
    assert (await ok(await served.get("/test-only/peer")))["port"] == port  # the same connection throughout


@pytest.mark.skipif(BACKEND != "postgresql", reason="connections are killed on a PostgreSQL registry")
async def test_connection_kills_under_writes_answer_503_never_500(client, admin_key, registry):
    await make_principal(client, admin_key, "etl", [])
    gate = asyncio.Semaphore(8)

    async def write(i: int) -> httpx.Response:
        async with gate:
            return await client.post("/v1/principals/etl/keys", json={"label": f"k{i}"}, headers=bearer(admin_key))

    async def killer() -> None:
        for _ in range(KILLS):
            await registry.kill_connections()
            await asyncio.sleep(0.1)

    answers, _ = await asyncio.gather(asyncio.gather(*(write(i) for i in range(WRITES))), killer())
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 503}, [a.text for a in answers if a.status_code not in (201, 503)]
    for answer in answers:
        if answer.status_code == 503:
            unavailable(answer)
    listed = await ok(await client.get("/v1/principals", headers=bearer(admin_key)))
    labels = {k["label"] for p in listed["items"] if p["name"] == "etl" for k in p["keys"]}
    acknowledged = {f"k{i}" for i, a in enumerate(answers) if a.status_code == 201}
    assert acknowledged <= labels  # no acknowledged write lost
