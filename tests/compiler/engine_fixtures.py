"""The fixture on ClickHouse (embedded chdb), Spark (local and Connect) and Trino (checked through DuckDB).

ClickHouse and Spark run through the real engines (`clickhouse+chdb:///dir`, `spark+local://`,
`sc://127.0.0.1:PORT`) so their parameter binding, settings and row handling are tested too.
chdb embeds one server per process and Spark one session, so both are process-wide singletons
shared by tests/compiler and tests/engines; Spark starts once (~20 s) and the tables load once.
Over Spark Connect the tables are tables in the server's warehouse, not temp views: a view
belongs to the session that made it, and each engine opens a session of its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import tempfile
from decimal import Decimal

import sqlglot
from compiler_data import TABLES

from app.engines import create_engine
from app.engines.base import Engine

CH_TYPES = {"string": "Nullable(String)", "timestamp": "Nullable(DateTime64(6))", "decimal": "Nullable(Decimal(12, 2))",
            "date": "Nullable(Date)", "integer": "Nullable(Int64)"}
WAIT = 120.0  # seconds; the suite checks numbers, not speed
MAX_ROWS = 100_000


def _ch_literal(v) -> str:
    """Test data only (never caller values): ClickHouse literals for the fixture rows."""
    if v is None:
        return "NULL"
    if isinstance(v, (dt.date, dt.datetime, str)):
        text = v.isoformat(sep=" ") if isinstance(v, dt.datetime) else str(v)
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(v)


@functools.cache
def chdb_url() -> str:
    """A chdb data directory holding the fixture (written once, then opened read-only)."""
    import chdb

    path = tempfile.mkdtemp(prefix="yardstick-chdb-")
    conn = chdb.connect(path)
    for name, (cols, types, rows) in TABLES.items():
        ddl = ", ".join(f"{c} {CH_TYPES[t]}" for c, t in zip(cols, types))
        conn.query(f"CREATE TABLE {name} ({ddl}) ENGINE = MergeTree ORDER BY tuple()")
        values = ", ".join("(" + ", ".join(_ch_literal(r[c]) for c in cols) + ")" for r in rows)
        conn.query(f"INSERT INTO {name} VALUES {values}")
    conn.close()
    return f"clickhouse+chdb://{path}"


def _spark_frames(spark):
    """The fixture tables as DataFrames of `spark` (TIMESTAMP_NTZ: no time zones), by name."""
    from pyspark.sql import types as T

    spark_types = {"string": T.StringType(), "timestamp": T.TimestampNTZType(), "decimal": T.DecimalType(12, 2),
                   "date": T.DateType(), "integer": T.LongType()}
    for name, (cols, types, rows) in TABLES.items():
        schema = T.StructType([T.StructField(c, spark_types[t], True) for c, t in zip(cols, types)])
        data = [tuple(Decimal(r[c]) if t == "decimal" and r[c] is not None else r[c] for c, t in zip(cols, types))
                for r in rows]
        yield name, spark.createDataFrame(data, schema)


@functools.cache
def spark_session():
    """The one local Spark session, with the fixture as temp views."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("yardstick-tests")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.sql.adaptive.enabled", "false").config("spark.sql.codegen.wholeStage", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for name, frame in _spark_frames(spark):
        frame.cache().createOrReplaceTempView(name)
    return spark


@functools.cache
def connect_tables(url: str) -> str:
    """Load the fixture into the Spark Connect server at `url` as warehouse tables; answers the URL."""
    from pyspark.sql.connect.session import SparkSession as RemoteSession

    spark = RemoteSession.builder.remote(url).create()
    try:
        for name, frame in _spark_frames(spark):
            frame.write.mode("overwrite").saveAsTable(name)
    finally:
        spark.stop()
    return url


class Counting:
    """An Engine wrapper that counts the rows the engine hands to Yardstick."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fetched = 0

    async def execute(self, sql: str, params, *, timeout: float, max_rows: int):
        result = await self.engine.execute(sql, params, timeout=timeout, max_rows=max_rows)
        self.fetched += len(result.rows)
        return result


class Live:
    """A real Engine behind the suite's `fetch` interface."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.engine = Counting(create_engine(url))

    async def fetch(self, sql: str, params: tuple) -> list[tuple]:
        return (await self.engine.execute(sql, params, timeout=WAIT, max_rows=MAX_ROWS)).rows


class TrinoViaDuck:
    """No Trino server runs here: the Trino SQL must parse as Trino, and its DuckDB transpilation
    must give the reference numbers on the same fixture with the same params."""

    kind = "trino"

    def __init__(self, duck) -> None:
        self.duck = duck

    async def fetch(self, sql: str, params: tuple) -> list[tuple]:
        sqlglot.parse_one(sql, read="trino")
        duck_sql = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
        assert duck_sql.count("?") == sql.count("?") == len(params)
        return self.duck.fetch_sync(duck_sql, params)
