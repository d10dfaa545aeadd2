"""Engines: sandbox, timeouts, row caps, isolation between sources, PostgreSQL errors."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from decimal import Decimal
from ipaddress import ip_address
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import duckdb
import pytest

from app.config import Settings
from app.engines import EnginePool, create_engine, kind_of
from app.errors import Forbidden, Invalid, QueryTimeout, SourceError, SourceUnavailable
from app.reach import Reach
from tests.engines.runs import GUARD, Runs

SLOW_DUCKDB = "SELECT count(*) FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = 7"
SLOW_SQLITE = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
    "SELECT count(*) FROM n"
)


@pytest.fixture
def duck_url(tmp_path):
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS i, (range * 1.5)::DECIMAL(12,2) AS x FROM range(1000)")
    return f"duckdb://{path}"


@pytest.fixture
def sqlite_url(tmp_path):
    path = tmp_path / "wh.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (i INTEGER, x REAL)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, i * 1.5) for i in range(1000)])
    conn.close()
    return f"sqlite://{path}"


@pytest.fixture
async def duck(duck_url):
    engine = create_engine(duck_url)
    yield engine
    await engine.close()


@pytest.fixture
async def lite(sqlite_url):
    engine = create_engine(sqlite_url)
    yield engine
    await engine.close()


def test_kind_of():
    assert kind_of("duckdb:///data/w.duckdb") == "duckdb"
    assert kind_of("sqlite:///data/w.db") == "sqlite"
    assert kind_of("postgresql://u:p@h:5432/db") == "postgresql"
    assert kind_of("postgresql+asyncpg://u:p@h/db") == "postgresql"
    with pytest.raises(Invalid) as err:
        kind_of("mysql://u:secret@h/db")
    assert err.value.code == "UNSUPPORTED_SOURCE_KIND" and "secret" not in err.value.message


async def test_duckdb_query_with_params(duck):
    result = await duck.execute("SELECT i, x FROM t WHERE i < ? ORDER BY i", [3], timeout=5, max_rows=10)
    assert result.columns == ["i", "x"]
    assert result.rows == [(0, Decimal("0.00")), (1, Decimal("1.50")), (2, Decimal("3.00"))]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM glob('*')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM sniff_csv('/etc/passwd')",
        "ATTACH '/tmp/yardstick-other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "COPY t TO '/tmp/yardstick-x.csv'",
        "CREATE TABLE z (i INTEGER)",
    ],
)
async def test_duckdb_sandbox_refuses(duck, duck_url, sql):
    with pytest.raises(SourceError) as err:
        await duck.execute(sql, [], timeout=5, max_rows=10)
    assert urlsplit(duck_url).path not in err.value.message
    assert (await duck.execute("SELECT count(*) FROM t", [], timeout=5, max_rows=1)).rows == [(1000,)]
    assert not os.path.exists("/tmp/yardstick-x.csv")


async def test_duckdb_timeout_interrupts(duck):
    """The statement itself is interrupted (uninterrupted it would run for days), not only the wait."""
    assert (await duck.execute("SELECT 1 AS one", [], timeout=5, max_rows=1)).rows == [(1,)]  # connection open
    runs = Runs(duck)
    with pytest.raises(QueryTimeout):
        await duck.execute(SLOW_DUCKDB, [], timeout=1, max_rows=10)
    stopped = await runs.ended()
    assert isinstance(stopped, QueryTimeout) and isinstance(stopped.__context__, duckdb.InterruptException)
    assert (await duck.execute("SELECT 1 AS one", [], timeout=5, max_rows=1)).rows == [(1,)]


async def test_duckdb_row_cap(duck):
    assert len((await duck.execute("SELECT i FROM t LIMIT 10", [], timeout=5, max_rows=10)).rows) == 10
    with pytest.raises(Invalid) as err:
        await duck.execute("SELECT i FROM range(100000000) r(i)", [], timeout=5, max_rows=10)
    assert err.value.code == "ROW_LIMIT_EXCEEDED" and err.value.status == 422


async def test_duckdb_missing_file_is_unavailable(tmp_path):
    engine = create_engine(f"duckdb://{tmp_path}/missing.duckdb")
    with pytest.raises(SourceUnavailable) as err:
        await engine.execute("SELECT 1", [], timeout=5, max_rows=1)
    assert str(tmp_path) not in err.value.message
    await engine.close()


async def test_sqlite_query_timeout_row_cap(lite):
    result = await lite.execute("SELECT i, x FROM t WHERE i = ?", [2], timeout=5, max_rows=10)
    assert result.columns == ["i", "x"] and result.rows == [(2, 3.0)]
    with pytest.raises(Invalid) as err:
        await lite.execute("SELECT i FROM t", [], timeout=5, max_rows=999)
    assert err.value.code == "ROW_LIMIT_EXCEEDED"
    runs = Runs(lite)
    with pytest.raises(QueryTimeout):
        await lite.execute(SLOW_SQLITE, [], timeout=1, max_rows=10)
    stopped = await runs.ended()  # interrupted, not run to its end
    assert isinstance(stopped, QueryTimeout) and isinstance(stopped.__context__, sqlite3.OperationalError)
    assert str(stopped.__context__) == "interrupted"
    assert (await lite.execute("SELECT count(*) FROM t", [], timeout=5, max_rows=1)).rows == [(1000,)]


@pytest.mark.parametrize(
    "sql", ["ATTACH '/tmp/yardstick-other.db' AS o", "INSERT INTO t VALUES (1, 1)", "PRAGMA table_info(t)"]
)
async def test_sqlite_sandbox_refuses(lite, sql):
    with pytest.raises(SourceError):
        await lite.execute(sql, [], timeout=5, max_rows=10)


async def test_slow_duckdb_does_not_block_sqlite(duck, lite):
    """While a DuckDB statement runs, SQLite answers: each source has its own threads."""
    runs = Runs(duck)
    slow = asyncio.create_task(duck.execute(SLOW_DUCKDB, [], timeout=600, max_rows=10))
    assert await asyncio.to_thread(runs.started.wait, GUARD)
    async with asyncio.timeout(GUARD):
        assert (await lite.execute("SELECT count(*) FROM t", [], timeout=5, max_rows=1)).rows == [(1000,)]
    assert not slow.done() and not runs.outcomes  # the DuckDB statement is still running
    slow.cancel()  # a cancelled request interrupts its statement too
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert isinstance((await runs.ended()).__context__, duckdb.InterruptException)


async def _cancelled_before_the_driver_starts(engine, sql: str):
    """Cancel a request whose statement reaches the driver only afterwards (a loaded machine can
    pause a worker thread there); answer how the statement ended."""
    runs = Runs(engine)
    entered, go = threading.Event(), threading.Event()
    fetch = engine._fetch

    def late(*args, **kwargs):
        entered.set()
        go.wait(GUARD)
        return fetch(*args, **kwargs)

    engine._fetch = late
    request = asyncio.create_task(engine.execute(sql, [], timeout=600, max_rows=10))
    assert await asyncio.to_thread(entered.wait, GUARD)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    go.set()  # the driver starts the statement after the first interrupt was sent
    return await runs.ended()


async def test_interrupt_sent_before_the_statement_starts_is_not_lost(duck, lite):
    """DuckDB and SQLite ignore an interrupt that comes before the statement: the engine repeats it."""
    stopped = await _cancelled_before_the_driver_starts(duck, SLOW_DUCKDB)
    assert isinstance(stopped, QueryTimeout) and isinstance(stopped.__context__, duckdb.InterruptException)
    stopped = await _cancelled_before_the_driver_starts(lite, SLOW_SQLITE)
    assert isinstance(stopped, QueryTimeout) and str(stopped.__context__) == "interrupted"


async def test_pool_reuses_and_replaces_engines(duck_url, sqlite_url):
    pool = EnginePool()
    first = await pool.get("warehouse", duck_url)
    assert await pool.get("warehouse", duck_url) is first
    replaced = await pool.get("warehouse", sqlite_url)
    assert replaced is not first and replaced.kind == "sqlite"
    assert (await replaced.execute("SELECT 1", [], timeout=5, max_rows=1)).rows == [(1,)]
    await pool.close_all()


def _pg_url() -> str | None:
    url = os.environ.get("YARDSTICK_TEST_DATABASE_URL")
    return url.replace("+asyncpg", "", 1) if url else None


pg = pytest.mark.skipif(not _pg_url(), reason="YARDSTICK_TEST_DATABASE_URL is not set")


@pytest.fixture
async def postgres():
    engine = create_engine(_pg_url())
    yield engine
    await engine.close()


@pg
async def test_postgres_query_decimal_and_row_cap(postgres):
    result = await postgres.execute(
        "SELECT g AS n, (g * 1.5)::numeric(12,2) AS x FROM generate_series(1, $1) g", [3], timeout=5, max_rows=10
    )
    assert result.columns == ["n", "x"] and result.rows[2] == (3, Decimal("4.50"))
    empty = await postgres.execute("SELECT 1 AS one WHERE false", [], timeout=5, max_rows=10)
    assert empty.columns == ["one"] and empty.rows == []
    with pytest.raises(Invalid) as err:
        await postgres.execute("SELECT g FROM generate_series(1, 1000) g", [], timeout=5, max_rows=10)
    assert err.value.code == "ROW_LIMIT_EXCEEDED"


@pg
async def test_postgres_statement_timeout_and_read_only(postgres):
    """The server's statement_timeout stops the statement, before the client's own deadline."""
    assert (await postgres.execute("SELECT 1", [], timeout=5, max_rows=1)).rows == [(1,)]  # pool connected
    with pytest.raises(QueryTimeout) as err:
        await postgres.execute("SELECT pg_sleep(5)", [], timeout=0.5, max_rows=1)
    assert isinstance(err.value.__context__, asyncpg.QueryCanceledError)
    with pytest.raises(SourceError):
        await postgres.execute("CREATE TABLE yardstick_should_not_exist (i int)", [], timeout=5, max_rows=1)
    assert (await postgres.execute("SELECT 1", [], timeout=5, max_rows=1)).rows == [(1,)]


@pg
async def test_postgres_errors_never_show_the_password():
    parts = urlsplit(_pg_url())
    host = parts.hostname or "127.0.0.1"
    wrong = urlunsplit((parts.scheme, f"{parts.username or 'postgres'}:Sup3rS3cret@{host}:{parts.port or 5432}",
                        parts.path, "", ""))
    engine = create_engine(wrong)  # refused, or accepted by trust auth and then the query fails
    with pytest.raises((SourceError, SourceUnavailable)) as err:
        await engine.execute("SELECT 'Sup3rS3cret' FROM nowhere", [], timeout=5, max_rows=1)
    assert "Sup3rS3cret" not in err.value.message
    await engine.close()
    unreachable = create_engine("postgresql://postgres:Sup3rS3cret@127.0.0.1:1/db")
    with pytest.raises(SourceUnavailable) as err:
        await unreachable.execute("SELECT 1", [], timeout=2, max_rows=1)
    assert "Sup3rS3cret" not in err.value.message
    await unreachable.close()


@pg
async def test_postgres_syntax_error_is_source_error(postgres):
    with pytest.raises(SourceError) as err:
        await postgres.execute("SELEC 1", [], timeout=5, max_rows=1)
    assert "syntax" in err.value.message


async def test_closed_engine_answers_unavailable(duck_url):
    engine = create_engine(duck_url)
    assert (await engine.execute("SELECT 1", [], timeout=5, max_rows=1)).rows == [(1,)]
    await engine.close()
    with pytest.raises(SourceUnavailable):
        await engine.execute("SELECT 1", [], timeout=5, max_rows=1)


@pg
async def test_postgres_server_that_is_the_registry_is_refused_whatever_dns_said():
    """The name looked elsewhere when checked (a stub resolver: DNS that changed in between), but the
    connected server says it is the registry's database: the query is refused before it runs."""
    parts = urlsplit(_pg_url())
    registry = f"postgresql+asyncpg://{parts.username or 'postgres'}@registry.example:{parts.port or 5432}{parts.path}"
    names = {"registry.example": [ip_address("127.0.0.1")]}  # the source's own name resolves to nothing here
    reach = Reach.for_sources(Settings(database_url=registry, source_allow_hosts=[]), resolver=lambda host, port: names.get(host, []))
    engine = create_engine(_pg_url(), reach)
    try:
        with pytest.raises(Forbidden) as err:
            await engine.execute("SELECT 1", [], timeout=5, max_rows=1)
        assert err.value.code == "SOURCE_IS_REGISTRY"
    finally:
        await engine.close()
