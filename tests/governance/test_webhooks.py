"""Change feed and webhooks: a loopback receiver gets each change once, signed, with a retry after a 500;
only editors subscribe, receivers only where webhooks may reach, a slow receiver delays only itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.auth.keys import split_key
from app.db import utcnow
from app.governance.delivery import WebhookWorker
from app.governance.models import Webhook
from app.governance.webhooks import SUSPENDED
from app.main import create_app
from tests.governance.conftest import customers_dataset
from tests.helpers import bearer, gmv_metric, make_domain, make_principal, ok

SECRET = "a-long-enough-webhook-secret"
GUARD = 60.0  # seconds; only turns a receiver that is never reached into a failure


class Receiver:
    """An HTTP receiver bound to 127.0.0.1 only: answers 500 to its first `failures` requests, then 200;
    or holds each request until released (`block`), or redirects every request (`redirect_to`)."""

    def __init__(self, *, failures: int = 0, block: bool = False, redirect_to: str | None = None) -> None:
        self.received: list[dict] = []
        self.hits = 0
        self.failures_left = failures
        self.entered, self.release, self.got = threading.Event(), threading.Event(), threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hits += 1
                if redirect_to is not None:
                    self.send_response(307)
                    self.send_header("Location", redirect_to)
                    self.end_headers()
                    return
                if block:
                    receiver.entered.set()
                    receiver.release.wait(GUARD)
                expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(self.headers["X-Yardstick-Signature"], expected)
                status = 401 if not ok else (500 if receiver.failures_left > 0 else 200)
                receiver.failures_left -= status == 500
                if status == 200:
                    receiver.received.append(json.loads(raw))
                    receiver.got.set()
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**options) -> Receiver:
        made.append(Receiver(**options))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def receiver(receivers) -> Receiver:
    return receivers(failures=1)


class Clock:
    """The delivery worker's clock, moved by the test, so a retry falls due when the test says."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def make_worker(app, settings, clock):
    """Workers as the app builds them (its settings, overridden per test), on the test's clock."""
    made: list[WebhookWorker] = []

    def make(settings_update: dict | None = None, **options) -> WebhookWorker:
        made.append(WebhookWorker.from_settings(app.state.db, settings.model_copy(update=settings_update or {}), clock=clock, **options))
        return made[-1]

    yield make
    for worker in made:
        await worker.stop()


async def subscribe(client, key: str, url: str, **scope) -> dict:
    return await ok(await client.post("/v1/webhooks", json={"url": url, "secret": SECRET, **(scope or {"domain": "sales"})},
                                      headers=bearer(key)), 201)


async def change_gmv(client, admin: str, caliber: str = "v2", version: int = 1) -> None:
    await ok(await client.patch("/v1/metrics/sales.gmv", json={"caliber": caliber}, headers={**bearer(admin), "If-Match": f'"{version}"'}))


async def deliveries(client, admin: str, hook_id: int) -> list[dict]:
    return (await ok(await client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=bearer(admin))))["items"]


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


async def test_webhook_gets_each_change_once_signed_with_retry(client, team, app, receiver, clock, make_worker):
    created = await subscribe(client, team.editor, receiver.url)
    assert "secret" not in created and created["domain"] == "sales"
    async with app.state.db.session() as session:
        stored = await session.get(Webhook, created["id"])
    assert SECRET not in stored.secret_encrypted

    await change_gmv(client, team.editor)
    await ok(await client.post("/v1/metrics", json=gmv_metric(key="sales.gmv_b") | {"filter": "status = 'x'"}, headers=bearer(team.editor)), 201)
    await ok(await client.patch("/v1/datasets/customers", json={"owner": "zoe"}, headers={**bearer(team.editor), "If-Match": '"1"'}))

    worker = make_worker(backoff=3600)
    assert await worker.run_once() == 3  # the first gets a 500
    assert [c["key"] for c in receiver.received] == ["sales.gmv_b", "customers"]  # in change order
    assert await worker.run_once() == 0  # not due yet
    clock.advance(3601)
    assert await worker.run_once() == 1  # the retry
    clock.advance(7200)
    assert await worker.run_once() == 0  # nothing twice
    assert sorted(c["seq"] for c in receiver.received) == sorted({c["seq"] for c in receiver.received})
    assert [(c["action"], c["key"], c["version"]) for c in sorted(receiver.received, key=lambda c: c["seq"])] == [
        ("metric.update", "sales.gmv", 2), ("metric.create", "sales.gmv_b", 1), ("dataset.update", "customers", 2)]

    log = await deliveries(client, team.editor, created["id"])
    assert [(d["state"], d["attempts"], d["last_status"]) for d in log] == [("delivered", 2, 200), ("delivered", 1, 200), ("delivered", 1, 200)]
    other = await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=bearer(team.editor2))
    assert other.status_code == 403


async def test_failed_deliveries_stop_after_bounded_retries(client, team, receiver, clock, make_worker):
    receiver.failures_left = 100
    await subscribe(client, team.editor, receiver.url, metric="sales.gmv")
    await ok(await client.post("/v1/datasets", json={**customers_dataset(), "name": "c2"}, headers=bearer(team.editor)), 201)  # not for this hook
    await change_gmv(client, team.editor)
    worker = make_worker(backoff=60, max_attempts=3)
    for _ in range(6):
        await worker.run_once()
        clock.advance(3600)
    log = await deliveries(client, team.editor, 1)
    assert [(d["state"], d["attempts"], d["last_status"]) for d in log] == [("failed", 3, 500)]


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


async def test_only_editors_of_the_domain_and_admins_subscribe(client, team, admin_key):
    await make_domain(client, admin_key, "service")
    grants = {"reader": [{"role": "reader", "domain": "sales"}], "global_reader": [{"role": "reader"}], "auditor": [{"role": "auditor"}],
              "other_editor": [{"role": "editor", "domain": "service"}]}
    others = {role: await make_principal(client, admin_key, role, roles) for role, roles in grants.items()}
    others["approver"] = team.approver
    for role, key in others.items():
        for scope in ({"domain": "sales"}, {"metric": "sales.gmv"}):
            response = await client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": SECRET, **scope}, headers=bearer(key))
            assert response.status_code == 403, (role, scope, response.text)
            assert response.json()["error"]["details"] == {"domain": "sales"}
    for key in (team.editor, admin_key):
        await subscribe(client, key, "http://127.0.0.1:9/x", metric="sales.gmv")
    assert len((await ok(await client.get("/v1/webhooks", headers=bearer(admin_key))))["items"]) == 2


async def test_receivers_on_loopback_private_or_metadata_hosts_are_refused(settings, team):
    closed = create_app(settings.model_copy(update={"webhook_allow_hosts": []}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=closed), base_url="http://yardstick.test") as client:
            for host in ("127.0.0.1", "0x7f000001", "2130706433", "127.1", "[::1]", "localhost", "169.254.169.254",
                         "10.0.0.1", "192.168.0.1", "metadata.google.internal", "[::ffff:127.0.0.1]"):
                response = await client.post("/v1/webhooks", json={"url": f"http://{host}:8080/hook", "secret": SECRET, "domain": "sales"},
                                             headers=bearer(team.editor))
                assert response.status_code == 403, (host, response.text)
                error = response.json()["error"]
                assert error["code"] == "WEBHOOK_HOST_FORBIDDEN" and error["details"] == {"pointer": "/url", "setting": "YARDSTICK_WEBHOOK_ALLOW_HOSTS"}
    finally:
        await closed.state.shutdown()


async def test_receivers_are_checked_again_at_delivery(client, team, receivers, make_worker):
    receiver = receivers()
    hook = await subscribe(client, team.editor, receiver.url)  # allowed when subscribed
    await change_gmv(client, team.editor)
    assert await make_worker({"webhook_allow_hosts": []}).run_once() == 1
    assert receiver.hits == 0
    (delivery,) = await deliveries(client, team.editor, hook["id"])
    assert delivery["state"] == "pending" and "WEBHOOK_HOST_FORBIDDEN" in delivery["last_error"], delivery


async def test_redirects_are_not_followed_and_each_followed_hop_is_checked(client, team, receivers, make_worker, clock):
    target = receivers()
    redirector = receivers(redirect_to=target.url)
    hook = await subscribe(client, team.editor, redirector.url)
    await change_gmv(client, team.editor)
    assert await make_worker().run_once() == 1
    assert (redirector.hits, target.hits) == (1, 0)
    (delivery,) = await deliveries(client, team.editor, hook["id"])
    assert (delivery["state"], delivery["last_status"], delivery["last_error"]) == ("pending", 307, "HTTP 307 (redirects are not followed)")

    # turned on, every hop is checked where the client connects: a hop to the metadata address is refused
    to_metadata = receivers(redirect_to="http://169.254.169.254/latest/meta-data/")
    second = await subscribe(client, team.editor2, to_metadata.url)
    await change_gmv(client, team.editor, "v3", 2)
    clock.advance(3600)  # the first hook's retry falls due
    await make_worker({"webhook_follow_redirects": True}).run_once()
    (refused,) = await deliveries(client, team.editor2, second["id"])
    assert to_metadata.hits == 1 and refused["state"] == "pending" and "WEBHOOK_HOST_FORBIDDEN" in refused["last_error"], refused
    assert target.hits == 2 and len(target.received) == 2  # the first hook's two changes, through its allowed redirect


async def test_a_hook_stops_when_its_creator_loses_the_right(client, team, admin_key, receivers, make_worker):
    by_role, by_key, kept = receivers(), receivers(), receivers()
    demoted = await subscribe(client, team.editor, by_role.url)
    unkeyed = await subscribe(client, team.editor2, by_key.url)
    await subscribe(client, team.both, kept.url)
    await ok(await client.put("/v1/principals/ed/roles", json={"roles": [{"role": "reader", "domain": "sales"}]}, headers=bearer(admin_key)))
    await ok(await client.delete(f"/v1/keys/{split_key(team.editor2)[0]}", headers=bearer(admin_key)))
    await change_gmv(client, admin_key)

    assert await make_worker().run_once() == 1
    assert (by_role.hits, by_key.hits, len(kept.received)) == (0, 0, 1)
    hooks = {h["id"]: h["active"] for h in (await ok(await client.get("/v1/webhooks", headers=bearer(admin_key))))["items"]}
    assert hooks == {demoted["id"]: False, unkeyed["id"]: False, 3: True}
    for hook in (demoted, unkeyed):
        assert [(d["state"], d["attempts"], d["last_error"]) for d in await deliveries(client, admin_key, hook["id"])] == [("failed", 0, SUSPENDED)]
    audit = await ok(await client.get("/v1/audit", params={"action": "webhook.suspend"}, headers=bearer(admin_key)))
    assert sorted(e["entity_key"] for e in audit["items"]) == sorted([str(demoted["id"]), str(unkeyed["id"])])


async def test_a_slow_receiver_delays_only_itself(client, team, receivers, make_worker):
    slow, fast = receivers(block=True), receivers()
    held = await subscribe(client, team.editor, slow.url)  # the first subscription: serial delivery would wait on it
    await subscribe(client, team.editor2, fast.url)
    await change_gmv(client, team.editor)
    await change_gmv(client, team.editor, "v3", 2)

    worker = make_worker({"webhook_timeout_seconds": GUARD})
    tick = asyncio.create_task(worker.run_once())
    assert await asyncio.to_thread(slow.entered.wait, GUARD)
    assert await asyncio.to_thread(fast.got.wait, GUARD)
    while len(fast.received) < 2 and not tick.done():  # both of the fast receiver's, in order, while the slow one holds
        await asyncio.sleep(0.01)
    assert [c["version"] for c in fast.received] == [2, 3]
    assert [d["attempts"] for d in await deliveries(client, team.editor, held["id"])] == [0, 0]  # still held, nothing recorded
    slow.release.set()
    assert await tick == 4
    assert [c["version"] for c in slow.received] == [2, 3]


async def test_credentials_in_receiver_urls_are_redacted(client, team, admin_key):
    url = "http://hook-user:Pa55-w0rd-x@127.0.0.1:9/hook?token=t0k3n-abc&team=sales"
    created = await subscribe(client, team.editor, url)
    listed = await ok(await client.get("/v1/webhooks", headers=bearer(team.editor)))
    audit = await ok(await client.get("/v1/audit", params={"entity_kind": "webhook"}, headers=bearer(admin_key)))
    assert created["url"] == "http://***@127.0.0.1:9/hook?token=***&team=sales"
    for seen in (json.dumps(created), json.dumps(listed), json.dumps(audit)):
        assert "Pa55-w0rd-x" not in seen and "t0k3n-abc" not in seen and "hook-user" not in seen
