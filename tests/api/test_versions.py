"""Definitions are versioned: every change appends N+1, reads travel in time, diffs name fields."""

from __future__ import annotations

import asyncio
import datetime as dt

from tests.helpers import bearer, gmv_metric, ok, orders_dataset, sales_setup


async def _registered(client, admin_key) -> str:
    editor = await sales_setup(client, admin_key)
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(editor)), 201)
    await ok(await client.post("/v1/metrics", json={**gmv_metric(), "change_note": "first"}, headers=bearer(editor)), 201)
    return editor


async def test_walkthrough_versions_diff_as_of_audit(client, admin_key):
    editor = await _registered(client, admin_key)
    first = await client.get("/v1/metrics/sales.gmv", headers=bearer(editor))
    assert first.headers["etag"] == '"1"'
    moment = dt.datetime.now(dt.timezone.utc)
    await asyncio.sleep(0.01)

    second = await client.patch(
        "/v1/metrics/sales.gmv", json={"measure": "SUM(net_amount)", "change_note": "net of discounts"},
        headers={**bearer(editor), "If-Match": first.headers["etag"]},
    )
    body = await ok(second)
    assert body["version"] == 2 and body["change_note"] == "net of discounts" and body["author"] == "ed"
    third = await client.patch(
        "/v1/metrics/sales.gmv", json={"filter": "status <> 'cancelled'"},
        headers={**bearer(editor), "If-Match": second.headers["etag"]},
    )
    assert (await ok(third))["version"] == 3

    v1 = await ok(await client.get("/v1/metrics/sales.gmv?version=1", headers=bearer(editor)))
    assert v1["definition"]["measure"] == "SUM(amount)" and v1["latest_version"] == 3
    then = await ok(await client.get("/v1/metrics/sales.gmv", params={"as_of": moment.isoformat()}, headers=bearer(editor)))
    assert then["version"] == 1

    diff = await ok(await client.get("/v1/metrics/sales.gmv/diff?from=1&to=3", headers=bearer(editor)))
    by_path = {c["path"]: c for c in diff["changes"]}
    assert set(by_path) == {"/measure", "/filter"}
    assert by_path["/measure"]["summary"] == 'measure: "SUM(amount)" → "SUM(net_amount)"'

    versions = await ok(await client.get("/v1/metrics/sales.gmv/versions", headers=bearer(editor)))
    assert [v["version"] for v in versions["items"]] == [1, 2, 3]
    assert len({v["content_hash"] for v in versions["items"]}) == 3

    events = await ok(await client.get("/v1/audit", params={"entity_key": "sales.gmv"}, headers=bearer(admin_key)))
    assert [e["action"] for e in events["items"]] == ["metric.create", "metric.update", "metric.update"]
    assert events["items"][1]["reason"] == "net of discounts"
    assert events["items"][1]["before"]["definition"]["measure"] == "SUM(amount)"
    assert events["items"][1]["after"]["definition"]["measure"] == "SUM(net_amount)"
    assert (await ok(await client.get("/v1/audit/verify", headers=bearer(admin_key))))["ok"] is True


async def test_unchanged_content_appends_nothing(client, admin_key):
    editor = await _registered(client, admin_key)
    same = await client.patch("/v1/metrics/sales.gmv", json={"measure": "SUM(amount)"}, headers={**bearer(editor), "If-Match": '"1"'})
    assert (await ok(same))["version"] == 1
    events = await ok(await client.get("/v1/audit", params={"entity_key": "sales.gmv"}, headers=bearer(admin_key)))
    assert len(events["items"]) == 1


async def test_if_match_required_and_stale(client, admin_key):
    editor = await _registered(client, admin_key)
    missing = await client.patch("/v1/metrics/sales.gmv", json={"unit": "USD"}, headers=bearer(editor))
    assert missing.status_code == 428 and missing.json()["error"]["code"] == "IF_MATCH_REQUIRED"
    await ok(await client.patch("/v1/metrics/sales.gmv", json={"unit": "USD"}, headers={**bearer(editor), "If-Match": '"1"'}))
    stale = await client.patch("/v1/metrics/sales.gmv", json={"unit": "EUR"}, headers={**bearer(editor), "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["error"]["details"]["current_version"] == 2


async def test_fifty_concurrent_patches_one_wins(client, admin_key, app):
    editor = await _registered(client, admin_key)
    headers = {**bearer(editor), "If-Match": '"1"'}
    answers = await asyncio.gather(*(
        client.patch("/v1/metrics/sales.gmv", json={"description": f"writer {i}"}, headers=headers) for i in range(50)
    ))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 1 and statuses.count(412) == 49, statuses
    versions = await ok(await client.get("/v1/metrics/sales.gmv/versions", headers=bearer(editor)))
    assert [v["version"] for v in versions["items"]] == [1, 2]
    assert (await ok(await client.get("/v1/audit/verify", headers=bearer(admin_key))))["ok"] is True


async def test_concurrent_changes_keep_versions_contiguous(client, admin_key):
    """Writers that re-read and retry on 412 all land, one version each, no gap or duplicate."""
    editor = await _registered(client, admin_key)

    async def writer(i: int) -> None:
        while True:
            current = await client.get("/v1/metrics/sales.gmv", headers=bearer(editor))
            answer = await client.patch(
                "/v1/metrics/sales.gmv", json={"description": f"writer {i}"},
                headers={**bearer(editor), "If-Match": current.headers["etag"]},
            )
            if answer.status_code == 200:
                return
            assert answer.status_code == 412, answer.text

    await asyncio.gather(*(writer(i) for i in range(10)))
    versions = await ok(await client.get("/v1/metrics/sales.gmv/versions", headers=bearer(editor)))
    assert [v["version"] for v in versions["items"]] == list(range(1, 12))


async def test_dataset_versions_and_as_of_before_creation(client, admin_key):
    editor = await sales_setup(client, admin_key)
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    created = await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(editor))
    await ok(created, 201)
    changed = await client.patch(
        "/v1/datasets/orders", json={"description": "paid and unpaid orders"},
        headers={**bearer(editor), "If-Match": created.headers["etag"]},
    )
    assert (await ok(changed))["version"] == 2
    missing = await client.get("/v1/datasets/orders", params={"as_of": before.isoformat()}, headers=bearer(editor))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "VERSION_NOT_FOUND"
    diff = await ok(await client.get("/v1/datasets/orders/diff?from=1&to=2", headers=bearer(editor)))
    assert [c["path"] for c in diff["changes"]] == ["/description"]


async def test_acknowledged_write_is_committed_before_the_answer(admin_key, app):
    """The unit of work commits before the response starts: a client never hears 201 for an
    uncommitted change (checked at the ASGI level, where the response start is observable)."""
    import json

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    events: list[str] = []  # in the order they happened

    def mark(session):
        events.append("commit")

    event.listen(Session, "after_commit", mark)
    body = json.dumps({"name": "finance"}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/v1/domains", "raw_path": b"/v1/domains", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"t"), (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"authorization", f"Bearer {admin_key}".encode())],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            events.append("response start")
            assert message["status"] == 201

    try:
        await app(scope, receive, send)
    finally:
        event.remove(Session, "after_commit", mark)
    assert "commit" in events and events[-1] == "response start" and events.count("response start") == 1, events
