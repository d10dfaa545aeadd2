"""The fixture loaded into DuckDB (in memory), SQLite (in memory), PostgreSQL (a schema
of its own, dropped afterwards; skipped when YARDSTICK_TEST_DATABASE_URL is not set),
ClickHouse (embedded chdb), Spark (local mode, and a real Spark Connect server through `sc://`);
Trino SQL is checked through DuckDB (engine_fixtures.py)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from compiler_data import TABLES  # noqa: E402
from engine_fixtures import Live, TrinoViaDuck, chdb_url, connect_tables, spark_session  # noqa: E402

DUCK_TYPES = {"string": "VARCHAR", "timestamp": "TIMESTAMP", "decimal": "DECIMAL(12,2)", "date": "DATE",
              "integer": "INTEGER"}
PG_TYPES = {**DUCK_TYPES, "string": "TEXT", "decimal": "NUMERIC(12,2)"}
SQLITE_TYPES = {"string": "TEXT", "timestamp": "TEXT", "decimal": "NUMERIC", "date": "TEXT", "integer": "INTEGER"}


def _ddl(name: str, cols: list[str], types: list[str], mapping: dict[str, str]) -> str:
    return f"CREATE TABLE {name} (" + ", ".join(f"{c} {mapping[t]}" for c, t in zip(cols, types)) + ")"


def _sqlite_value(v):
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if v is not None and type(v).__name__ == "Decimal":
        return str(v)
    return v


class Duck:
    kind = "duckdb"

    def __init__(self) -> None:
        import duckdb

        self.con = duckdb.connect()
        for name, (cols, types, rows) in TABLES.items():
            self.con.execute(_ddl(name, cols, types, DUCK_TYPES))
            self.con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(cols))})",
                                 [[r[c] for c in cols] for r in rows])

    async def fetch(self, sql: str, params: tuple) -> list[tuple]:
        return self.fetch_sync(sql, params)

    def fetch_sync(self, sql: str, params: tuple) -> list[tuple]:
        return [tuple(r) for r in self.con.execute(sql, list(params)).fetchall()]


class Lite:
    kind = "sqlite"

    def __init__(self) -> None:
        self.con = sqlite3.connect(":memory:", check_same_thread=False)
        for name, (cols, types, rows) in TABLES.items():
            self.con.execute(_ddl(name, cols, types, SQLITE_TYPES))
            self.con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(cols))})",
                                 [[_sqlite_value(r[c]) for c in cols] for r in rows])

    async def fetch(self, sql: str, params: tuple) -> list[tuple]:
        return self.fetch_sync(sql, params)

    def fetch_sync(self, sql: str, params: tuple) -> list[tuple]:
        return [tuple(r) for r in self.con.execute(sql, params).fetchall()]


class Pg:
    kind = "postgresql"

    def __init__(self, conn, schema: str) -> None:
        self.conn, self.schema = conn, schema

    async def fetch(self, sql: str, params: tuple) -> list[tuple]:
        return [tuple(r) for r in await self.conn.fetch(sql, *params)]


@pytest.fixture(scope="session")
def duck() -> Duck:
    return Duck()


@pytest.fixture(scope="session")
def lite() -> Lite:
    return Lite()


@pytest.fixture(scope="session")
async def pg():
    url = os.environ.get("YARDSTICK_TEST_DATABASE_URL")
    if not url:
        pytest.skip("YARDSTICK_TEST_DATABASE_URL is not set")
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    schema = f"ys_compiler_{uuid.uuid4().hex[:10]}"
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        await conn.execute(f'SET search_path TO "{schema}"')
        for name, (cols, types, rows) in TABLES.items():
            await conn.execute(_ddl(name, cols, types, PG_TYPES))
            await conn.copy_records_to_table(name, records=[[r[c] for c in cols] for r in rows], columns=cols)
        yield Pg(conn, schema)
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@pytest.fixture(scope="session")
async def clickhouse():
    live = Live("clickhouse", chdb_url())
    yield live
    await live.engine.engine.close()


@pytest.fixture(scope="session")
async def spark():
    spark_session()
    live = Live("spark", "spark+local://")
    yield live
    await live.engine.engine.close()


@pytest.fixture(scope="session")
async def spark_connect(spark_connect_url):
    live = Live("spark", connect_tables(spark_connect_url))
    yield live
    await live.engine.engine.close()


@pytest.fixture(scope="session")
def trino(duck) -> TrinoViaDuck:
    return TrinoViaDuck(duck)


FIXTURES = {"duckdb": "duck", "sqlite": "lite", "postgresql": "pg", "clickhouse": "clickhouse",
            "spark": "spark", "spark_connect": "spark_connect", "trino": "trino"}


@pytest.fixture(params=["duckdb", "sqlite", "postgresql", "clickhouse", pytest.param("spark", marks=pytest.mark.slow),
                        pytest.param("spark_connect", marks=pytest.mark.slow), "trino"])
def engine(request):
    return request.getfixturevalue(FIXTURES[request.param])
