"""Idempotency-Key: one write per key however many requests race, no secret at rest or in a replay,
replays only to the same principal with a live key, nothing written behind a 413. (Issue 12, findings 4, 5.)"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, text

from app.db import utcnow
from app.ops import idempotency
from app.ops.models import IdempotencyRecord
from tests.helpers import bearer, make_domain, make_principal, ok

RACERS = 20


def keyed(api_key: str, key: str) -> dict[str, str]:
    return {**bearer(api_key), "Idempotency-Key": key}


async def stored_text(app) -> str:
    """Every column of every idempotency record, as one string."""
    async with app.state.db.session() as session:
        rows = (await session.execute(text("SELECT * FROM idempotency_records"))).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


async def keys_of(client, admin_key: str, principal: str) -> list[str]:
    listed = await ok(await client.get("/v1/principals", headers=bearer(admin_key)))
    return [k["id"] for p in listed["items"] if p["name"] == principal for k in p["keys"]]


async def test_a_replay_answers_the_same_ids_without_the_key(app, client, admin_key):
    first = await ok(await client.post("/v1/principals", json={"name": "bi"}, headers=keyed(admin_key, "p-1")), 201)
    again = await client.post("/v1/principals", json={"name": "bi"}, headers=keyed(admin_key, "p-1"))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == {k: v for k, v in first.items() if k != "api_key"}
    key = await ok(await client.post("/v1/principals/bi/keys", json={"label": "etl"}, headers=keyed(admin_key, "k-1")), 201)
    replayed = await ok(await client.post("/v1/principals/bi/keys", json={"label": "etl"}, headers=keyed(admin_key, "k-1")), 201)
    assert replayed == {"id": key["id"]}
    assert sorted(await keys_of(client, admin_key, "bi")) == sorted([first["keys"][0]["id"], key["id"]])

    at_rest = await stored_text(app)
    for secret in (first["api_key"], key["api_key"]):
        assert secret not in at_rest and secret.rsplit("_", 1)[1] not in at_rest
    assert '"id":"' + key["id"] in at_rest  # the ids are kept: the replay needs them


async def test_a_replay_needs_the_same_principal_with_a_live_key(client, admin_key):
    second_admin = await make_principal(client, admin_key, "root2", [{"role": "admin"}])
    spare = await ok(await client.post("/v1/principals/admin/keys", json={"label": "spare"}, headers=bearer(admin_key)), 201)
    created = await ok(await client.post("/v1/principals/root2/keys", json={"label": "x"}, headers=keyed(spare["api_key"], "same")), 201)

    await ok(await client.delete(f"/v1/keys/{spare['id']}", headers=bearer(admin_key)))
    revoked = await client.post("/v1/principals/root2/keys", json={"label": "x"}, headers=keyed(spare["api_key"], "same"))
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "UNAUTHENTICATED"
    assert "idempotent-replayed" not in revoked.headers and created["api_key"] not in revoked.text

    live = await client.post("/v1/principals/root2/keys", json={"label": "x"}, headers=keyed(admin_key, "same"))
    assert live.status_code == 201 and live.headers["idempotent-replayed"] == "true" and live.json() == {"id": created["id"]}

    other = await ok(await client.post("/v1/principals/root2/keys", json={"label": "x"}, headers=keyed(second_admin, "same")), 201)
    assert other["id"] != created["id"] and "api_key" in other  # another principal's keys: its own write
    assert len(await keys_of(client, admin_key, "root2")) == 3  # initial, created, other


async def test_concurrent_requests_with_one_key_write_once(client, admin_key):
    await make_principal(client, admin_key, "etl", [])
    await make_domain(client, admin_key, "sales")
    body = {"url": "https://93.184.215.14/hook", "secret": "s" * 32, "domain": "sales"}

    async def race(path: str, payload: dict, key: str) -> list:
        return await asyncio.gather(*(client.post(path, json=payload, headers=keyed(admin_key, key)) for _ in range(RACERS)))

    keys = await race("/v1/principals/etl/keys", {"label": "race"}, "race-key")
    hooks = await race("/v1/webhooks", body, "race-hook")
    for answers in (keys, hooks):
        assert [a.status_code for a in answers] == [201] * RACERS, [a.text for a in answers if a.status_code != 201]
        assert len({a.json()["id"] for a in answers}) == 1
        assert sum(a.headers.get("idempotent-replayed") != "true" for a in answers) == 1
    assert sum("api_key" in a.json() for a in keys) == 1
    assert len(await keys_of(client, admin_key, "etl")) == 2  # the initial key and one more
    listed = await ok(await client.get("/v1/webhooks", headers=bearer(admin_key)))
    assert len(listed["items"]) == 1
    audit = await ok(await client.get("/v1/audit", params={"action": "key.create", "entity_key": "etl"}, headers=bearer(admin_key)))
    assert len(audit["items"]) == 1


@pytest.fixture
async def slow(app):
    """POST /test-only/slow: its first run waits for `release`, later runs answer at once; `runs` counts them."""
    release, runs = asyncio.Event(), []

    async def route() -> dict:
        runs.append(1)
        if len(runs) == 1:
            await release.wait()
        return {"run": len(runs)}

    app.add_api_route("/test-only/slow", route, methods=["POST"])
    yield release, runs
    release.set()


async def start_slow(client, admin_key: str, key: str, runs: list) -> asyncio.Task:
    first = asyncio.create_task(client.post("/test-only/slow", json={}, headers=keyed(admin_key, key)))
    while not runs:
        await asyncio.sleep(0.01)
    return first


async def test_a_request_still_running_holds_its_key(client, admin_key, slow, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.05, raising=False)
    release, runs = slow
    first = await start_slow(client, admin_key, "slow", runs)
    waiting = await client.post("/test-only/slow", json={}, headers=keyed(admin_key, "slow"))
    assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert waiting.headers["retry-after"] == "1"
    other_body = await client.post("/test-only/slow", json={"x": 1}, headers=keyed(admin_key, "slow"))
    assert other_body.status_code == 422 and other_body.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    release.set()
    assert (await first).json() == {"run": 1}
    replayed = await client.post("/test-only/slow", json={}, headers=keyed(admin_key, "slow"))
    assert replayed.json() == {"run": 1} and replayed.headers["idempotent-replayed"] == "true" and runs == [1]


async def test_a_record_left_by_a_dead_process_is_taken_over(app, client, admin_key, slow):
    release, runs = slow
    first = await start_slow(client, admin_key, "left", runs)  # never answers while the test runs: its process "died"
    async with app.state.db.session(write=True) as session:
        record = await session.get(IdempotencyRecord, ("admin", "left"))
        record.created_at = utcnow() - getattr(idempotency, "LEASE", dt.timedelta(0)) - dt.timedelta(seconds=1)
    taken = await client.post("/test-only/slow", json={}, headers=keyed(admin_key, "left"))
    assert taken.status_code == 200 and taken.json() == {"run": 2} and "idempotent-replayed" not in taken.headers
    release.set()
    await first


async def test_a_failed_request_releases_its_key(app, client, admin_key):
    await make_domain(client, admin_key, "sales")
    clash = await client.post("/v1/domains", json={"name": "sales"}, headers=keyed(admin_key, "d-1"))
    assert clash.status_code == 409
    async with app.state.db.session() as session:
        assert (await session.scalars(select(IdempotencyRecord))).all() == []
    again = await client.post("/v1/domains", json={"name": "sales"}, headers=keyed(admin_key, "d-1"))
    assert again.status_code == 409 and "idempotent-replayed" not in again.headers


async def test_a_body_over_the_limit_writes_nothing(app, client, admin_key):
    async def chunks():
        yield b'{"name": "big"}'
        for _ in range(30):
            yield b" " * 50_000  # valid JSON whitespace: 1.5 MB in all, sent without a length

    response = await client.post("/v1/domains", content=chunks(), headers={**keyed(admin_key, "big"), "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert (await ok(await client.get("/v1/domains", headers=bearer(admin_key))))["items"] == []
    assert await stored_text(app) == ""
    created = await client.post("/v1/domains", json={"name": "big"}, headers=keyed(admin_key, "big"))
    assert created.status_code == 201 and "idempotent-replayed" not in created.headers
