"""POST /v1/query against sources that hang or are down: the answer is a coded 504 or 503, and the
service keeps answering meanwhile (counted: /healthz requests complete while the source hangs)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.engines.runs import GUARD
from tests.fake_trino import HangingTrino
from tests.helpers import bearer, gmv_metric, make_domain, make_source, ok, orders_dataset

GMV = {"metrics": ["sales.gmv"]}


@pytest.fixture
def timeout_seconds() -> float:
    return 3.0


@pytest.fixture
def settings(settings, timeout_seconds):
    return settings.model_copy(update={"query_timeout_seconds": timeout_seconds})


async def define_gmv(client, admin: str, url: str) -> None:
    await make_domain(client, admin, "sales")
    await make_source(client, admin, "warehouse", url)
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(admin)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(), headers=bearer(admin)), 201)


async def healthz_until(client, query: asyncio.Task) -> tuple[int, object]:
    """How many /healthz requests were answered while `query` ran, and its response."""
    answered = 0
    while not query.done():
        assert (await client.get("/healthz")).status_code == 200
        answered += 1
        await asyncio.sleep(0.05)
    return answered, await query


@pytest.fixture
def trino():
    server = HangingTrino()
    yield server
    server.close()


async def test_hanging_trino_answers_504_while_the_service_keeps_answering(client, admin_key, trino):
    """The coordinator takes the query and never answers again, the cancel included: the query
    answers 504 QUERY_TIMEOUT (not 500), and /healthz answers while the cancel still hangs."""
    await define_gmv(client, admin_key, trino.url)
    query = asyncio.create_task(client.post("/v1/query", json=GMV, headers=bearer(admin_key)))
    assert await asyncio.to_thread(trino.cancel_arrived.wait, GUARD), "the time limit sent no cancel"
    for _ in range(3):
        assert (await client.get("/healthz")).status_code == 200
    assert not trino.cancel_dropped.is_set(), "/healthz waited for the cancel to give up"
    response = await query
    assert response.status_code == 504, response.text
    assert response.json()["error"]["code"] == "QUERY_TIMEOUT"


async def test_stuck_trino_workers_make_the_source_answer_503_at_once(client, admin_key, trino):
    """Two queries whose driver calls hang leave two stuck workers (of four): the next query is
    refused at once with 503 and Retry-After, and never reaches the coordinator."""
    await define_gmv(client, admin_key, trino.url)
    first = await asyncio.gather(*(client.post("/v1/query", json={**GMV, "limit": n}, headers=bearer(admin_key))
                                   for n in (1, 2)))
    assert [r.status_code for r in first] == [504, 504], [r.text for r in first]
    posts = trino.posts()
    refused = await client.post("/v1/query", json={**GMV, "limit": 3}, headers=bearer(admin_key))
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "SOURCE_UNAVAILABLE" and refused.headers["Retry-After"] == "3"
    assert trino.posts() == posts


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("timeout_seconds", [30.0])
async def test_unreachable_spark_connect_answers_503_within_its_time_limit(client, admin_key):
    """Nothing listens at the Spark Connect address: the query answers 503 SOURCE_UNAVAILABLE (so
    before its 30 s limit, or it would be a 504), and /healthz answers all the while."""
    pytest.importorskip("pyspark.sql.connect.session")
    await define_gmv(client, admin_key, f"sc://127.0.0.1:{_closed_port()}")
    query = asyncio.create_task(client.post("/v1/query", json=GMV, headers=bearer(admin_key)))
    answered, response = await healthz_until(client, query)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SOURCE_UNAVAILABLE"
    assert answered >= 3


SLOW_VIEW = """CREATE OR REPLACE VIEW slow_orders AS
SELECT CAST(id AS STRING) AS order_id, 'c1' AS customer_id, 'north' AS region,
       TIMESTAMP_NTZ'2025-01-01 00:00:00' AS ordered_at, CAST(id % 100 AS DECIMAL(12, 2)) AS amount,
       CAST(id % 100 AS DECIMAL(12, 2)) AS net_amount, 'paid' AS status
FROM range(100000000000)"""


def _make_slow_view(url: str) -> None:
    from pyspark.sql.connect.session import SparkSession as RemoteSession

    spark = RemoteSession.builder.remote(url).create()
    try:
        spark.sql(SLOW_VIEW)
    finally:
        spark.stop()


@pytest.mark.slow
async def test_slow_spark_connect_query_answers_504_while_the_service_keeps_answering(
        client, admin_key, spark_connect_url):
    """A real Spark Connect server (tests/spark_connect.py) runs a query far past its 3 s limit: the
    query answers 504 QUERY_TIMEOUT, its interrupt (an RPC) goes out from a thread, and /healthz
    answers all the while."""
    await asyncio.to_thread(_make_slow_view, spark_connect_url)
    await make_domain(client, admin_key, "sales")
    await make_source(client, admin_key, "warehouse", spark_connect_url)
    # its own dataset name: compiled plans are cached per process by definition names and versions
    dataset = orders_dataset(name="slow_orders") | {"table": "slow_orders"}
    await ok(await client.post("/v1/datasets", json=dataset, headers=bearer(admin_key)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(dataset="slow_orders"), headers=bearer(admin_key)), 201)
    query = asyncio.create_task(client.post("/v1/query", json=GMV, headers=bearer(admin_key)))
    answered, response = await healthz_until(client, query)
    assert response.status_code == 504, response.text
    assert response.json()["error"]["code"] == "QUERY_TIMEOUT"
    assert answered >= 3
