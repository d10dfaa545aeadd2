"""Sources reach only what an admin allows: never the registry, files only under the data
directories, loopback and private hosts only when allowed; checked at registration and again
when an engine connects (a query then answers 403, the file or server untouched)."""

from __future__ import annotations

import sqlite3
from ipaddress import ip_address
from urllib.parse import urlsplit

import duckdb
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.engines import create_engine
from app.errors import Forbidden
from app.main import create_app
from app.reach import Reach
from tests.helpers import bearer, make_domain, make_source, ok

QUERY = {"metrics": ["ops.total"], "dimensions": ["t.grp"]}


def registry_as_source(database_url: str) -> list[str]:
    """URLs naming the test registry itself: its SQLite file (and WAL), or its PostgreSQL database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return [f"duckdb://{url.database}", f"sqlite://{url.database}", f"duckdb://{url.database}-wal"]
    return [f"postgresql://{url.username}@{url.host}:{url.port or 5432}/{url.database}"]


async def refused(client, admin_key, url: str, code: str) -> dict:
    response = await client.post("/v1/sources", json={"name": "s", "url": url}, headers=bearer(admin_key))
    assert response.status_code == 403, (url, response.text)
    error = response.json()["error"]
    assert error["code"] == code and error["details"]["pointer"] == "/url", (url, error)
    return error


@pytest.fixture
async def closed_app(settings):
    """A second app on the same registry that allows no loopback host and no data directory of the suite's."""
    application = create_app(settings.model_copy(update={"source_allow_hosts": [], "source_data_dirs": []}))
    yield application
    await application.state.shutdown()


@pytest.fixture
async def closed_client(closed_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=closed_app), base_url="http://yardstick.test") as c:
        yield c


async def test_the_registry_itself_is_refused_as_a_source(client, admin_key, settings):
    for url in registry_as_source(settings.database_url):
        await refused(client, admin_key, url, "SOURCE_IS_REGISTRY")
    assert (await ok(await client.get("/v1/sources", headers=bearer(admin_key))))["items"] == []
    assert (await ok(await client.get("/v1/audit/verify", headers=bearer(admin_key))))["ok"] is True


async def test_no_engine_opens_the_registry(settings, monkeypatch):
    """Connect time: an engine given the registry refuses before its driver opens anything (DuckDB's
    open and close of the SQLite registry file dropped SQLite's locks and lost the live WAL)."""
    opened = []
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append(a))
    for url in registry_as_source(settings.database_url):
        engine = create_engine(url, Reach.for_sources(settings))
        try:
            with pytest.raises(Forbidden) as err:
                await engine.execute("SELECT 1", [], timeout=5, max_rows=1)
            assert err.value.code == "SOURCE_IS_REGISTRY", url
        finally:
            await engine.close()
    assert opened == []
    path = make_url(settings.database_url).database
    if settings.is_sqlite:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_system_files_and_files_outside_data_directories_are_refused(client, admin_key, tmp_path):
    for url in ("sqlite:///etc/passwd", "duckdb:///etc/passwd", "duckdb:///proc/self/environ", "clickhouse+chdb:///etc"):
        await refused(client, admin_key, url, "SOURCE_PATH_FORBIDDEN")
    inside = tmp_path / "fine.duckdb"  # the suite allows its temporary directory
    await make_source(client, admin_key, "fine", f"duckdb://{inside}")


async def test_loopback_postgresql_is_refused_unless_allowed(client, closed_client, admin_key, settings):
    pg = urlsplit(settings.database_url.replace("+asyncpg", "")) if not settings.is_sqlite else None
    port = (pg.port or 5432) if pg else 5432
    for host in ("127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1", "[::1]", "169.254.169.254", "10.0.0.7",
                 "metadata.google.internal"):
        error = await refused(closed_client, admin_key, f"postgresql://postgres@{host}:{port}/postgres", "SOURCE_HOST_FORBIDDEN")
        assert error["details"]["setting"] == "YARDSTICK_SOURCE_ALLOW_HOSTS"
    # the suite's own settings allow 127.0.0.1: another database there is accepted, the registry's is not
    await make_source(client, admin_key, "local_pg", f"postgresql://postgres@127.0.0.1:{port}/postgres")


async def test_a_source_is_checked_again_when_a_query_connects(client, closed_client, app, admin_key, tmp_path):
    path = tmp_path / "ops.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT i AS id, i % 3 AS grp FROM range(30) r(i)")
    await make_domain(client, admin_key, "ops")
    await make_source(client, admin_key, "ops_wh", f"duckdb://{path}")
    await ok(await client.post("/v1/datasets", json={
        "name": "t", "domain": "ops", "source": "ops_wh", "table": "t",
        "columns": [{"name": "id", "type": "integer"}, {"name": "grp", "type": "integer", "dimension": True}],
    }, headers=bearer(admin_key)), 201)
    await ok(await client.post("/v1/metrics", json={
        "key": "ops.total", "name": "total", "domain": "ops", "owner": "ops", "type": "simple", "dataset": "t",
        "measure": "COUNT(id)", "cache_ttl": 0}, headers=bearer(admin_key)), 201)
    answer = await ok(await client.post("/v1/query", json=QUERY, headers=bearer(admin_key)))
    assert sorted(answer["rows"]) == [[0, 10], [1, 10], [2, 10]]

    await app.state.queries.engines.close_all()  # the file is closed again: only the second app may open it
    # the same registry served with a narrower reach: the stored source is refused when the engine connects
    response = await closed_client.post("/v1/query", json=QUERY, headers=bearer(admin_key))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "SOURCE_PATH_FORBIDDEN" and str(tmp_path) not in response.text


async def test_postgresql_urls_name_one_tcp_host(client, admin_key):
    for url in ("postgresql://u@%2Frun%2Fpostgresql/db", "postgresql://u@h1:5432,h2:5432/db", "postgresql://u@h/db?host=/tmp",
                "postgresql:///db", "postgresql://u@db.example/db?hostaddr=127.0.0.1"):
        response = await client.post("/v1/sources", json={"name": "s", "url": url}, headers=bearer(admin_key))
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"]["code"] == "INVALID_SOURCE_URL" and response.json()["error"]["details"]["pointer"] == "/url"


async def test_every_network_engine_checks_the_address_when_it_connects(settings):
    """A name that resolved elsewhere when it was registered and resolves to loopback now (DNS rebinding)."""
    loopback = Reach.for_sources(settings.model_copy(update={"source_allow_hosts": []}), resolver=lambda host, port: [ip_address("127.0.0.1")])
    for url in ("postgresql://u:p@warehouse.example:5432/db", "trino://u@warehouse.example:8080/hive/sales",
                "clickhouse://u:p@warehouse.example:8123/db", "sc://warehouse.example:15002/;token=t"):
        engine = create_engine(url, loopback)
        try:
            with pytest.raises(Forbidden) as err:
                await engine.execute("SELECT 1", [], timeout=5, max_rows=1)
            assert err.value.code == "SOURCE_HOST_FORBIDDEN" and "warehouse.example" not in err.value.message, url
        finally:
            await engine.close()
