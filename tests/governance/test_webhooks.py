"""Change feed and webhooks: a loopback receiver gets each change once, signed, with a retry after a 500."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.db import utcnow
from app.governance import delivery
from app.governance.delivery import WebhookWorker
from app.governance.models import Webhook
from tests.governance.conftest import customers_dataset
from tests.helpers import bearer, gmv_metric, ok

SECRET = "a-long-enough-webhook-secret"


class Receiver:
    """An HTTP receiver bound to 127.0.0.1 only; answers 500 to its first request, then 200."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.failures_left = 1
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(self.headers["X-Yardstick-Signature"], expected)
                status = 401 if not ok else (500 if receiver.failures_left > 0 else 200)
                receiver.failures_left -= status == 500
                if status == 200:
                    receiver.received.append(json.loads(raw))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


class Clock:
    """The delivery worker's clock, moved by the test, so a retry falls due when the test says."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(delivery, "utcnow", moved)
    return moved


async def test_change_feed_pages_in_commit_order(client, team):
    everything = await ok(await client.get("/v1/changes", headers=bearer(team.editor)))
    assert [(c["action"], c["key"]) for c in everything["items"]] == [
        ("dataset.create", "customers"), ("dataset.create", "orders"), ("metric.create", "sales.gmv")]
    first = await ok(await client.get("/v1/changes", params={"limit": 2}, headers=bearer(team.editor)))
    assert len(first["items"]) == 2 and first["next_cursor"] == str(first["items"][-1]["seq"])
    rest = await ok(await client.get("/v1/changes", params={"after": first["next_cursor"]}, headers=bearer(team.editor)))
    assert [c["key"] for c in rest["items"]] == ["sales.gmv"] and rest["next_cursor"] is None
    assert rest["items"][0]["domain"] == "sales" and rest["items"][0]["version"] == 1
    idle = await ok(await client.get("/v1/changes", params={"after": rest["cursor"]}, headers=bearer(team.editor)))
    assert idle["items"] == [] and idle["cursor"] == rest["cursor"]
    bad = await client.get("/v1/changes", params={"after": "abc"}, headers=bearer(team.editor))
    assert bad.status_code == 422


async def test_webhook_gets_each_change_once_signed_with_retry(client, team, app, settings, receiver, clock):
    created = await ok(await client.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "domain": "sales"}, headers=bearer(team.editor)), 201)
    assert "secret" not in created and created["domain"] == "sales"
    async with app.state.db.session() as session:
        stored = await session.get(Webhook, created["id"])
    assert SECRET not in stored.secret_encrypted

    await ok(await client.patch("/v1/metrics/sales.gmv", json={"caliber": "v2"}, headers={**bearer(team.editor), "If-Match": '"1"'}))
    await ok(await client.post("/v1/metrics", json=gmv_metric(key="sales.gmv_b") | {"filter": "status = 'x'"}, headers=bearer(team.editor)), 201)
    await ok(await client.patch("/v1/datasets/customers", json={"owner": "zoe"}, headers={**bearer(team.editor), "If-Match": '"1"'}))

    worker = WebhookWorker(app.state.db, settings.secret_key, backoff=3600)
    async with httpx.AsyncClient() as http:
        assert await worker.run_once(http) == 3  # the first gets a 500
        assert [c["key"] for c in receiver.received] == ["sales.gmv_b", "customers"]
        assert await worker.run_once(http) == 0  # not due yet
        clock.advance(3601)
        assert await worker.run_once(http) == 1  # the retry
        clock.advance(7200)
        assert await worker.run_once(http) == 0  # nothing twice
    assert sorted(c["seq"] for c in receiver.received) == sorted({c["seq"] for c in receiver.received})
    assert [(c["action"], c["key"], c["version"]) for c in sorted(receiver.received, key=lambda c: c["seq"])] == [
        ("metric.update", "sales.gmv", 2), ("metric.create", "sales.gmv_b", 1), ("dataset.update", "customers", 2)]

    log = await ok(await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=bearer(team.editor)))
    assert [(d["state"], d["attempts"], d["last_status"]) for d in log["items"]] == [("delivered", 2, 200), ("delivered", 1, 200), ("delivered", 1, 200)]
    other = await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=bearer(team.editor2))
    assert other.status_code == 403


async def test_failed_deliveries_stop_after_bounded_retries(client, team, app, settings, receiver, clock):
    receiver.failures_left = 100
    await ok(await client.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "metric": "sales.gmv"}, headers=bearer(team.editor)), 201)
    await ok(await client.post("/v1/datasets", json={**customers_dataset(), "name": "c2"}, headers=bearer(team.editor)), 201)  # not for this hook
    await ok(await client.patch("/v1/metrics/sales.gmv", json={"caliber": "v2"}, headers={**bearer(team.editor), "If-Match": '"1"'}))
    worker = WebhookWorker(app.state.db, settings.secret_key, backoff=60, max_attempts=3)
    async with httpx.AsyncClient() as http:
        for _ in range(6):
            await worker.run_once(http)
            clock.advance(3600)
    log = await ok(await client.get("/v1/webhooks/1/deliveries", headers=bearer(team.editor)))
    assert [(d["state"], d["attempts"], d["last_status"]) for d in log["items"]] == [("failed", 3, 500)]


async def test_webhook_input_is_checked(client, team):
    cases = [
        ({"url": "ftp://x", "secret": SECRET, "domain": "sales"}, 422),
        ({"url": "http://127.0.0.1:9/x", "secret": "short", "domain": "sales"}, 422),
        ({"url": "http://127.0.0.1:9/x", "secret": SECRET, "metric": "sales.nope"}, 422),
        ({"url": "http://127.0.0.1:9/x", "secret": SECRET}, 403),  # every domain: admins only
        ({"url": "http://127.0.0.1:9/x", "secret": SECRET, "domain": "nope"}, 422),
    ]
    for body, status in cases:
        response = await client.post("/v1/webhooks", json=body, headers=bearer(team.editor))
        assert response.status_code == status, (body, response.text)
