"""Targets: bulk upload (atomic), versions, as-of, audit, rights, and targets in query answers."""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import quote

import pytest

from tests.helpers import bearer, ok
from tests.kpi.conftest import put_targets, target

EAST_JAN = "sales.revenue|2026-01|plan|orders.region=East"


def url(key: str) -> str:
    return "/v1/targets/" + quote(key, safe="")


async def test_bulk_targets_are_versioned_like_metrics(client, keys):
    items = [target("sales.revenue", f"2026-0{m}", 1000 * m) for m in (1, 2, 3)]
    items.append(target("sales.revenue", "2026-01", 400, scope={"orders.region": "East"}))
    first = await put_targets(client, keys.sales, items)
    assert (first["created"], first["updated"], first["unchanged"]) == (4, 0, 0)
    assert first["items"][3] == {"key": EAST_JAN, "version": 1, "changed": True}
    again = await put_targets(client, keys.sales, items)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)

    moment = dt.datetime.now(dt.timezone.utc)
    await asyncio.sleep(0.01)
    items[3]["value"] = 450
    changed = await put_targets(client, keys.sales, items, note="East raised")
    assert (changed["updated"], changed["unchanged"]) == (1, 3)
    assert changed["items"][3] == {"key": EAST_JAN, "version": 2, "changed": True}

    current = await client.get(url(EAST_JAN), headers=bearer(keys.reader))
    assert current.headers["etag"] == '"2"' and current.json()["definition"]["value"] == 450
    assert current.json()["definition"]["domain"] == "sales" and current.json()["change_note"] == "East raised"
    v1 = await ok(await client.get(url(EAST_JAN), params={"version": 1}, headers=bearer(keys.reader)))
    then = await ok(await client.get(url(EAST_JAN), params={"as_of": moment.isoformat()}, headers=bearer(keys.reader)))
    assert v1["definition"]["value"] == then["definition"]["value"] == 400 and then["version"] == 1
    versions = await ok(await client.get(url(EAST_JAN) + "/versions", headers=bearer(keys.reader)))
    assert [v["version"] for v in versions["items"]] == [1, 2]
    diff = await ok(await client.get(url(EAST_JAN) + "/diff", params={"from": 1, "to": 2}, headers=bearer(keys.reader)))
    assert [(c["path"], c["before"], c["after"]) for c in diff["changes"]] == [("/value", 400, 450)]
    events = await ok(await client.get("/v1/audit", params={"entity_kind": "target", "entity_key": EAST_JAN}, headers=bearer(keys.admin)))
    assert [(e["action"], e["actor"]) for e in events["items"]] == [("target.create", "sales_ed"), ("target.update", "sales_ed")]
    listed = await ok(await client.get("/v1/targets", params={"metric": "sales.revenue", "period": "2026-01"}, headers=bearer(keys.reader)))
    assert sorted(i["key"] for i in listed["items"]) == ["sales.revenue|2026-01|plan", EAST_JAN]
    assert (await ok(await client.get("/v1/audit/verify", headers=bearer(keys.admin))))["ok"] is True


@pytest.mark.parametrize("index, field, bad, code", [
    (17, "value", "abc", "INVALID_FIELD"),
    (5, "metric", "sales.nope", "UNKNOWN_METRIC"),
    (9, "period", "2026-13", "INVALID_FIELD"),
    (3, "scope", {"region": "East"}, "INVALID_FIELD"),
    (11, "kind", "dream", "INVALID_FIELD"),
    (2, "domain", "service", "TARGET_DOMAIN_MISMATCH"),
    (4, "colour", "red", "UNKNOWN_FIELD"),
])
async def test_bulk_is_all_or_nothing_and_names_the_first_bad_item(client, keys, index, field, bad, code):
    items = [target("sales.orders", "2026", 100 + i, scope={"orders.region": f"r{i}"}) for i in range(20)]
    items[index][field] = bad
    response = await client.put("/v1/targets", json={"targets": items}, headers=bearer(keys.sales))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["details"]["pointer"].startswith(f"/targets/{index}/{field}")
    assert (await ok(await client.get("/v1/targets", headers=bearer(keys.reader))))["items"] == []


async def test_bad_batches_never_500(client, keys):
    twice = [target("sales.orders", "2026", 1), target("sales.orders", "2026", 2)]
    dup = await client.put("/v1/targets", json={"targets": twice}, headers=bearer(keys.sales))
    assert dup.status_code == 422 and dup.json()["error"]["code"] == "DUPLICATE_TARGET"
    assert dup.json()["error"]["details"]["pointer"] == "/targets/1"
    for body in ({"targets": []}, {"targets": "x"}, [], {"targets": [target("sales.orders", "2026", float("1e300"))]}):
        response = await client.put("/v1/targets", json=body, headers=bearer(keys.sales))
        assert response.status_code == 422, (body, response.text)
    long_scope = {f"orders.d{i}": "x" * 20 for i in range(5)}
    too_long = await client.put("/v1/targets", json={"targets": [target("sales.orders", "2026", 1, scope=long_scope)]}, headers=bearer(keys.sales))
    assert too_long.status_code == 422 and too_long.json()["error"]["details"]["pointer"] == "/targets/0"
    missing = await client.get(url("sales.orders|2030|plan"), headers=bearer(keys.reader))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "TARGET_NOT_FOUND"


async def test_only_editors_of_the_metrics_domain_set_targets(client, keys):
    mixed = [target("service.response_hours", "2026-01", 5), target("sales.revenue", "2026-01", 9)]
    refused = await client.put("/v1/targets", json={"targets": mixed}, headers=bearer(keys.service))
    assert refused.status_code == 403 and refused.json()["error"]["details"] == {"domain": "sales"}
    reader = await client.put("/v1/targets", json={"targets": mixed[:1]}, headers=bearer(keys.reader))
    assert reader.status_code == 403
    anonymous = await client.put("/v1/targets", json={"targets": mixed[:1]})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHENTICATED"
    assert (await ok(await client.get("/v1/targets", headers=bearer(keys.reader))))["items"] == []
    await put_targets(client, keys.service, mixed[:1])
    assert (await client.get("/v1/targets", headers=bearer(keys.reader))).json()["items"][0]["domain"] == "service"
