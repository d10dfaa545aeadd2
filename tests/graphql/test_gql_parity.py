"""Every REST read has a GraphQL twin that answers the same data to the same principal,
and refuses the same principals with the same codes (401 → UNAUTHENTICATED, 403 → FORBIDDEN)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from tests.graphql.gql import codes, gql, same_instant, snake
from tests.graphql.twins import gql_view, rest_view
from tests.helpers import ROLES, bearer, gmv_metric, make_domain, make_principal, ok, orders_dataset, sales_setup

ENTITY = "key status version latestVersion author changeNote createdAt contentHash definition domain { name }"
PRINCIPAL = "name displayName kind roles { role domain } keys { id label createdAt revokedAt }"
SOURCE = "name kind url description createdBy createdAt"
VERSION = "version author changeNote createdAt contentHash"
DIFF = "key fromVersion toVersion changes { path op before after summary }"
EVENT = "seq at actor action entityKind entityKey before after reason prevHash keyId hash"


def twins(moment: str) -> list[tuple[str, str, str]]:
    """(REST path, GraphQL field selection, name of the answered field)."""
    return [
        ("/v1/domains", "domains { name description createdAt }", "domains"),
        ("/v1/principals", f"principals {{ {PRINCIPAL} }}", "principals"),
        ("/v1/sources", f"sources {{ {SOURCE} }}", "sources"),
        ("/v1/sources/warehouse", f'source(name: "warehouse") {{ {SOURCE} }}', "source"),
        ("/v1/datasets", f"datasets {{ items {{ {ENTITY} }} nextCursor }}", "datasets"),
        ("/v1/datasets?domain=sales&limit=1", f'datasets(domain: "sales", limit: 1) {{ items {{ {ENTITY} }} nextCursor }}', "datasets"),
        ("/v1/datasets/orders", f'dataset(key: "orders") {{ {ENTITY} }}', "dataset"),
        ("/v1/datasets/orders/versions", f'datasetVersions(key: "orders") {{ items {{ {VERSION} }} nextCursor }}', "datasetVersions"),
        ("/v1/datasets/orders/diff?from=1&to=1", f'datasetDiff(key: "orders", fromVersion: 1, toVersion: 1) {{ {DIFF} }}', "datasetDiff"),
        ("/v1/metrics", f"metrics {{ items {{ {ENTITY} }} nextCursor }}", "metrics"),
        ("/v1/metrics?q=gmv&tag=revenue&owner=alice&status=published", f'metrics(q: "gmv", tag: "revenue", owner: "alice", status: "published") {{ items {{ {ENTITY} }} nextCursor }}', "metrics"),
        ("/v1/metrics?limit=1", f"metrics(limit: 1) {{ items {{ {ENTITY} }} nextCursor }}", "metrics"),
        ("/v1/metrics?q=销售额", f'metrics(q: "销售额") {{ items {{ {ENTITY} }} nextCursor }}', "metrics"),
        ("/v1/metrics?level=strategic", f'metrics(level: "strategic") {{ items {{ {ENTITY} }} nextCursor }}', "metrics"),
        ("/v1/metrics/sales.gmv", f'metric(key: "sales.gmv") {{ {ENTITY} }}', "metric"),
        ("/v1/metrics/sales.gmv?version=1", f'metric(key: "sales.gmv", version: 1) {{ {ENTITY} }}', "metric"),
        (f"/v1/metrics/sales.gmv?as_of={moment}", f'metric(key: "sales.gmv", asOf: "{moment}") {{ {ENTITY} }}', "metric"),
        ("/v1/metrics/sales.gmv/versions?limit=1", f'metricVersions(key: "sales.gmv", limit: 1) {{ items {{ {VERSION} }} nextCursor }}', "metricVersions"),
        ("/v1/metrics/sales.gmv/diff?from=1&to=2", f'metricDiff(key: "sales.gmv", fromVersion: 1, toVersion: 2) {{ {DIFF} }}', "metricDiff"),
        ("/v1/metrics/sales.nope", 'metric(key: "sales.nope") { key }', "metric"),
        ("/v1/audit", f"auditEvents {{ items {{ {EVENT} }} nextCursor }}", "auditEvents"),
        ("/v1/audit?entity_kind=metric&actor=admin&limit=2", f'auditEvents(entityKind: "metric", actor: "admin", limit: 2) {{ items {{ {EVENT} }} nextCursor }}', "auditEvents"),
        ("/v1/audit/verify", "auditVerification { ok events headSeq firstBrokenSeq code reason }", "auditVerification"),
        ("/v1/audit/head", "auditHead { seq hash keyId signature at }", "auditHead"),
    ]


PLAIN_LISTS = {"domains", "principals", "sources"}  # REST pages them with next_cursor null; GraphQL lists them


@pytest.fixture
async def world(client, admin_key):
    await sales_setup(client, admin_key)
    await make_domain(client, admin_key, "service")
    keys: dict[str, str | None] = {"anonymous": None, "admin": admin_key}
    for role, grants in ROLES.items():
        keys[role] = await make_principal(client, admin_key, role, grants)
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(admin_key)), 201)
    await ok(await client.post("/v1/metrics", json={**gmv_metric(), "level": "strategic"}, headers=bearer(admin_key)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(key="sales.gmv_all") | {"filter": None}, headers=bearer(admin_key)), 201)
    await asyncio.sleep(0.01)
    moment = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    await asyncio.sleep(0.01)
    await ok(await client.patch("/v1/metrics/sales.gmv", json={"measure": "SUM(net_amount)", "change_note": "net"},
                                headers={**bearer(admin_key), "If-Match": '"1"'}))
    return keys, moment


async def test_every_read_answers_the_same_to_every_principal(client, world):
    keys, moment = world
    failures, outcomes = [], {"data": 0, "refused": 0}
    for path, selection, field in twins(moment):
        for role, key in keys.items():
            rest = await client.get(path, headers=bearer(key) if key else {})
            body = await gql(client, key, f"{{ {selection} }}")
            outcomes["data" if rest.status_code == 200 else "refused"] += 1
            if rest.status_code == 200:
                got = same_instant(gql_view(snake((body.get("data") or {}).get(field))))
                expected = rest.json()["items"] if field in PLAIN_LISTS else rest.json()
                if body.get("errors") or got != same_instant(rest_view(expected)):
                    failures.append((path, role, "data differs", body.get("errors"), str(expected)[:300], str(got)[:300]))
            else:
                expected = rest.json()["error"]
                got_errors = body.get("errors") or [{}]
                ext = got_errors[0].get("extensions", {})
                if codes(body) != [expected["code"]] or ext.get("details") != expected["details"]:
                    failures.append((path, role, rest.status_code, expected, got_errors))
    assert not failures, "\n".join(map(str, failures))
    assert outcomes["data"] > 100 and outcomes["refused"] > 50, outcomes


async def test_refusals_use_the_rest_codes(client, world):
    keys, _ = world
    anonymous = await gql(client, None, "{ domains { name } }")
    assert codes(anonymous) == ["UNAUTHENTICATED"] and anonymous["data"] is None
    for role in ("reader", "no_role", "other_editor"):
        body = await gql(client, keys[role], "{ principals { name } }")
        assert codes(body) == ["FORBIDDEN"], body
    outsider = await gql(client, keys["other_editor"], '{ metric(key: "sales.gmv") { key } }')
    assert codes(outsider) == ["FORBIDDEN"] and outsider["errors"][0]["extensions"]["details"] == {"domain": "sales"}
    bad = await gql(client, keys["admin"], '{ metrics(limit: 501) { items { key } } }')
    assert codes(bad) == ["INVALID_FIELD"] and bad["errors"][0]["extensions"]["details"]["pointer"] == "/limit"
    cursor = await gql(client, keys["admin"], '{ metrics(cursor: "nonsense!") { items { key } } }')
    assert codes(cursor) == ["INVALID_CURSOR"]


async def test_paging_follows_next_cursor(client, world):
    keys, _ = world
    seen, cursor = [], None
    while True:
        page = (await gql(client, keys["admin"], "query($c: String) { metrics(limit: 1, cursor: $c) { items { key } nextCursor } }", {"c": cursor}))["data"]["metrics"]
        seen += [i["key"] for i in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ["sales.gmv", "sales.gmv_all"]


async def test_nested_dataset_hidden_from_a_caller_without_its_domain(client, admin_key, world):
    keys, _ = world
    await ok(await client.post("/v1/datasets", json=orders_dataset(domain="service", name="tickets"), headers=bearer(admin_key)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(key="sales.ticket_amount", dataset="tickets"), headers=bearer(admin_key)), 201)
    body = await gql(client, keys["reader"], '{ metric(key: "sales.ticket_amount") { key dataset { key } } }')
    assert body["data"] is None or body["data"]["metric"]["dataset"] is None
    assert codes(body) == ["FORBIDDEN"] and body["errors"][0]["path"] == ["metric", "dataset"]
    admin_view = await gql(client, admin_key, '{ metric(key: "sales.ticket_amount") { dataset { key domain { name } } } }')
    assert admin_view["data"]["metric"]["dataset"] == {"key": "tickets", "domain": {"name": "service"}}
