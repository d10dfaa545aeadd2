"""Test fixtures: a migrated registry per test (SQLite or PostgreSQL), an app, an admin.

`YARDSTICK_TEST_REGISTRY=postgresql` runs the registry on the PostgreSQL server named by
`YARDSTICK_TEST_DATABASE_URL`; a test that cannot reach it fails, it never skips.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.auth.service import bootstrap_admin
from app.config import Settings
from app.main import create_app
from app.migrate import upgrade
from tests.spark_connect import connect_server, java_missing

# What the suite's sources and webhook receivers may reach, allowed as an admin would: files in the
# temporary directory, and 127.0.0.1 (PostgreSQL sources, the Trino and Spark fakes, receivers).
os.environ.setdefault("YARDSTICK_SOURCE_DATA_DIRS", tempfile.gettempdir())
os.environ.setdefault("YARDSTICK_SOURCE_ALLOW_HOSTS", "127.0.0.1")
os.environ.setdefault("YARDSTICK_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")

BACKEND = os.environ.get("YARDSTICK_TEST_REGISTRY", "sqlite")
PG_URL = os.environ.get("YARDSTICK_TEST_DATABASE_URL", "")
_counter = itertools.count()


def _pg_server_url(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


def _plain(url: str) -> str:
    return url.replace("+asyncpg", "")


REGISTRYLESS = ("compiler", "engines", "demo")


def pytest_collection_modifyitems(items):
    for item in items:
        if "registry_template" not in item.fixturenames and any(f"tests/{d}/" in str(item.path) for d in REGISTRYLESS):
            item.add_marker(pytest.mark.no_registry)


@pytest.fixture(scope="session")
def registry_template(tmp_path_factory):
    """A migrated database that each test copies (SQLite file or PostgreSQL TEMPLATE)."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("registry") / "template.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        yield path
        return
    if not PG_URL:
        pytest.fail("YARDSTICK_TEST_REGISTRY=postgresql needs YARDSTICK_TEST_DATABASE_URL")
    name = f"ys_tpl_{os.getpid()}"
    asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    upgrade(_pg_server_url(PG_URL, name))
    yield name
    asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def registry_copy(template: Path | str, directory: Path) -> AsyncIterator[tuple[str, Path | str]]:
    """A copy of a registry (SQLite file or PostgreSQL TEMPLATE): its URL and a handle that can be
    copied in turn; dropped afterwards."""
    if BACKEND == "sqlite":
        path = directory / "registry.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}", path
        return
    name = f"ys_t_{os.getpid()}_{next(_counter)}"
    await _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg_server_url(PG_URL, name), name
    finally:
        await _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin_sql(sql: str) -> None:
    conn = await asyncpg.connect(_plain(PG_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def database_url(registry_template, tmp_path):
    async with registry_copy(registry_template, tmp_path) as (url, _):
        yield url


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        environment="test", database_url=database_url, var_dir=tmp_path / "var",
        secret_key="test-secret-" + uuid.uuid4().hex, log_json=True,
    )


@pytest.fixture
async def app(settings):
    application = create_app(settings)
    yield application
    await application.state.shutdown()


@pytest.fixture
async def admin_key(app) -> str:
    async with app.state.db.session(write=True) as session:
        return await bootstrap_admin(session)


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://yardstick.test") as c:
        yield c


@pytest.fixture
def tmp_path_str(tmp_path: Path) -> str:
    return str(tmp_path)


@pytest.fixture(scope="session")
def spark_connect_url(tmp_path_factory) -> Iterator[str]:
    """The suite's one Spark Connect server (tests/spark_connect.py), started on first use."""
    reason = java_missing()
    if reason:
        pytest.skip(reason)
    with connect_server(tmp_path_factory.mktemp("spark-connect")) as url:
        yield url
