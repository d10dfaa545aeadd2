"""A metric listing with nested owner, domain, dataset and latest version costs a constant
number of registry statements, whether it lists 10 metrics or 100 (DataLoaders, not N+1)."""

from __future__ import annotations

from sqlalchemy import event

from app.catalog import service as catalog
from app.catalog.kinds import METRIC
from tests.graphql.gql import data
from tests.helpers import bearer, gmv_metric, make_domain, make_principal, ok, orders_dataset, sales_setup

LISTING = """{ metrics(limit: 500) { nextCursor items {
    key version ownerPrincipal { name displayName } domain { name description }
    dataset { key domain { name } latest { version } } latest { version createdAt }
} } }"""


async def add_metrics(app, admin_key: str, first: int, last: int) -> None:
    caller = await app.state.callers.authenticate(admin_key)
    async with app.state.db.session(write=True) as session:
        for i in range(first, last):
            domain = "sales" if i % 2 else "service"
            owner = "alice" if i % 3 else f"nobody{i}"
            metric = gmv_metric(domain=domain, key=f"{domain}.m{i:03d}") | {"owner": owner}
            await catalog.create(session, caller, METRIC, metric)


async def counted(app, client, key: str) -> tuple[int, dict]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = await data(client, key, LISTING)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), answer


async def test_listing_cost_does_not_grow_with_the_number_of_metrics(app, client, admin_key):
    await sales_setup(client, admin_key)
    await make_domain(client, admin_key, "service")
    await make_principal(client, admin_key, "alice", [{"role": "reader"}])
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(admin_key)), 201)
    app.state.callers.ttl = float("inf")  # a verified key stays cached however long the setup takes
    await data(client, admin_key, "{ domains { name } }")  # the caller is now authenticated and cached

    await add_metrics(app, admin_key, 0, 10)
    ten, answer = await counted(app, client, admin_key)
    assert len(answer["metrics"]["items"]) == 10
    await add_metrics(app, admin_key, 10, 100)
    hundred, answer = await counted(app, client, admin_key)
    items = answer["metrics"]["items"]
    assert len(items) == 100
    assert ten == hundred <= 6, (ten, hundred)

    first = next(i for i in items if i["key"] == "sales.m001")
    assert first["ownerPrincipal"] == {"name": "alice", "displayName": "alice"}
    assert first["domain"] == {"name": "sales", "description": ""}
    assert first["dataset"] == {"key": "orders", "domain": {"name": "sales"}, "latest": {"version": 1}}
    assert first["latest"]["version"] == 1
    assert next(i for i in items if i["key"] == "service.m000")["ownerPrincipal"] is None
