"""ClickHouse (embedded chdb), Spark (local, and a real Spark Connect server) and Trino engines:
URLs, params, timeouts, row caps, error mapping and scrubbing. No ClickHouse server or Trino
server runs here: their network paths are checked against a closed local port (and Trino
against a coordinator that hangs, in tests/query/test_query_timeouts.py)."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "compiler"))

from engine_fixtures import chdb_url, connect_tables, spark_session  # noqa: E402

from app.engines import create_engine, kind_of  # noqa: E402
from app.errors import Invalid, QueryTimeout, SourceError, SourceUnavailable  # noqa: E402
from tests.engines.runs import Runs  # noqa: E402

CLOSED = "127.0.0.1:9"  # discard port: nothing listens here


def test_kinds_of_new_urls():
    assert kind_of("clickhouse://u:p@h:8123/db") == "clickhouse"
    assert kind_of("clickhouse+https://u:p@h:8443/db") == "clickhouse"
    assert kind_of("clickhouse+chdb:///var/chdb") == "clickhouse"
    assert kind_of("sc://spark.internal:15002") == "spark"
    assert kind_of("spark+local://") == "spark"
    assert kind_of("trino://analyst@trino:8080/hive/sales") == "trino"
    assert kind_of("trino+https://analyst:pw@trino:443/hive/sales") == "trino"


def test_bad_urls_are_refused():
    with pytest.raises(Invalid):
        create_engine("trino://u@h:8080/a/b/c")
    with pytest.raises(Invalid):
        create_engine("spark+local://?threads=lots")
    with pytest.raises(Invalid):
        create_engine("clickhouse+chdb://relative/dir")


# -- ClickHouse, embedded ---------------------------------------------------------------------
@pytest.fixture(scope="module")
async def ch():
    engine = create_engine(chdb_url())
    yield engine
    await engine.close()


async def test_clickhouse_binds_params_server_side(ch):
    sql = ("SELECT order_id, amount, ordered_at FROM orders WHERE channel = {p0:String} AND amount >= {p1:Decimal(38, 10)}"
           " AND ordered_at < {p2:DateTime64(6)} ORDER BY order_id LIMIT 2")
    result = await ch.execute(sql, ["O'Brien \\ co", Decimal("1"), dt.datetime(2026, 1, 1)], timeout=10, max_rows=5)
    assert result.columns == ["order_id", "amount", "ordered_at"]
    assert result.rows and all(isinstance(r[1], Decimal) and r[2].tzinfo is None for r in result.rows)
    injected = await ch.execute("SELECT count() FROM orders WHERE channel = {p0:String}", ["x' OR 1=1 --"],
                                timeout=10, max_rows=5)
    assert injected.rows == [(0,)]


async def test_clickhouse_timeout(ch):
    """ClickHouse stops the query itself at max_execution_time (TIMEOUT_EXCEEDED, code 159)."""
    runs = Runs(ch)
    with pytest.raises(QueryTimeout):
        await ch.execute("SELECT count() FROM numbers(100000000000) WHERE number % 7 = 3", [], timeout=0.5,
                         max_rows=5)
    stopped = await runs.ended()
    assert isinstance(stopped, QueryTimeout) and "Code: 159" in str(stopped.__context__), repr(stopped.__context__)


async def test_clickhouse_row_cap(ch):
    assert len((await ch.execute("SELECT number FROM numbers(10)", [], timeout=10, max_rows=10)).rows) == 10
    with pytest.raises(Invalid) as err:
        await ch.execute("SELECT number FROM numbers(1000000)", [], timeout=10, max_rows=10)
    assert err.value.code == "ROW_LIMIT_EXCEEDED" and err.value.status == 422


async def test_clickhouse_errors_are_scrubbed(ch):
    path = chdb_url().removeprefix("clickhouse+chdb://")
    with pytest.raises(SourceError) as err:
        await ch.execute(f"SELECT * FROM file('{path}/nothing.csv')", [], timeout=10, max_rows=5)
    assert err.value.status == 502 and path not in err.value.message
    with pytest.raises(SourceError, match="READONLY|readonly"):
        await ch.execute("INSERT INTO regions VALUES ('r9', 'x', 'y')", [], timeout=10, max_rows=5)


async def test_clickhouse_second_chdb_directory_is_unavailable(ch, tmp_path):
    """chdb embeds one server per process: while one directory is open, another cannot be."""
    await ch.execute("SELECT 1", [], timeout=10, max_rows=5)
    engine = create_engine(f"clickhouse+chdb://{tmp_path}/other")
    try:
        with pytest.raises(SourceUnavailable) as err:
            await engine.execute("SELECT 1", [], timeout=10, max_rows=5)
        assert err.value.status == 503 and str(tmp_path) not in err.value.message
    finally:
        await engine.close()


async def test_clickhouse_server_unreachable_hides_password():
    engine = create_engine(f"clickhouse://reader:s3cr3t-pw@{CLOSED}/warehouse")
    try:
        with pytest.raises(SourceUnavailable) as err:
            await engine.execute("SELECT 1", [], timeout=10, max_rows=5)
        assert "s3cr3t-pw" not in err.value.message
    finally:
        await engine.close()


# -- Trino ----------------------------------------------------------------------------------
async def test_trino_unreachable_hides_password():
    engine = create_engine(f"trino+https://analyst:s3cr3t-pw@{CLOSED}/hive/sales")
    try:
        with pytest.raises(SourceUnavailable) as err:
            await engine.execute("SELECT 1", [], timeout=20, max_rows=5)
        assert "s3cr3t-pw" not in err.value.message
    finally:
        await engine.close()


# -- Spark, local ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
async def spark_local():
    spark_session()
    engine = create_engine("spark+local://")
    yield engine
    await engine.close()


@pytest.fixture(scope="module")
async def spark_connect(spark_connect_url):
    engine = create_engine(connect_tables(spark_connect_url))
    yield engine
    await engine.close()


@pytest.fixture(params=["spark_local", "spark_connect"])
def spark(request):
    """The same checks in local mode and over Spark Connect (a real server, tests/spark_connect.py)."""
    return request.getfixturevalue(request.param)


@pytest.mark.slow
async def test_spark_named_params(spark):
    result = await spark.execute("SELECT order_id, amount FROM orders WHERE channel = :p0 AND ordered_at < :p1 "
                                 "ORDER BY order_id LIMIT 3", ["O'Brien \\ co", dt.date(2026, 1, 1)],
                                 timeout=60, max_rows=5)
    assert result.columns == ["order_id", "amount"] and result.rows
    assert all(isinstance(r[1], (Decimal, type(None))) for r in result.rows)


@pytest.mark.slow
async def test_spark_timeout_cancels_the_job_group(spark):
    runs = Runs(spark)
    with pytest.raises(QueryTimeout):
        await spark.execute("SELECT count(*) FROM range(100000000000) WHERE id % 7 = 3", [], timeout=2, max_rows=5)
    stopped = await runs.ended()  # the job was cancelled, not run to its end
    assert isinstance(stopped, QueryTimeout) and "cancel" in str(stopped.__context__).lower(), repr(stopped.__context__)
    assert (await spark.execute("SELECT 1 AS one", [], timeout=60, max_rows=5)).rows == [(1,)]


@pytest.mark.slow
async def test_spark_row_cap_and_errors(spark):
    with pytest.raises(Invalid) as err:
        await spark.execute("SELECT id FROM range(1000)", [], timeout=60, max_rows=10)
    assert err.value.code == "ROW_LIMIT_EXCEEDED"
    with pytest.raises(SourceError) as err:
        await spark.execute("SELECT nosuch FROM orders", [], timeout=60, max_rows=10)
    assert err.value.status == 502


def test_spark_connect_url_secrets_are_scrubbed():
    engine = create_engine("sc://spark.internal:15002/;token=t0ken-value;user_id=ys")
    assert "t0ken-value" not in engine.scrub("failed: sc://spark.internal:15002/;token=t0ken-value")
    assert "t0ken-value" not in engine.scrub("bearer t0ken-value refused")
