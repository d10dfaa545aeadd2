"""The audit chain catches tampering (cut, rewritten, truncated, corrupted); a source password never leaves the service."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging

import httpx
import pytest
from sqlalchemy import text

from app.config import DEV_SECRET
from app.main import create_app
from tests.helpers import bearer, gmv_metric, make_domain, ok, orders_dataset, sales_setup

PASSWORD = "Pw-4f1c9e7a-unique-Zq"


APPEND_ONLY = {"audit_events": ("audit_events_append_only", "audit_events_no_truncate"),
               "audit_head": ("audit_head_forward_only", "audit_head_no_truncate")}


async def tamper(app, *steps: tuple[str, dict]) -> None:
    """What someone with write access to the registry can do; on PostgreSQL the owner first
    turns the append-only triggers off (and back on), which no setting of the session can."""
    async with app.state.db.session(write=True) as session:
        pg = session.bind.dialect.name == "postgresql"
        for table in APPEND_ONLY if pg else ():
            await session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement, params in steps:
            await session.execute(text(statement), params)
        for table, triggers in APPEND_ONLY.items() if pg else ():
            for trigger in triggers:
                await session.execute(text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}"))


async def is_postgresql(app) -> bool:
    async with app.state.db.session() as session:
        return session.bind.dialect.name == "postgresql"


async def chain(client, admin_key) -> list[dict]:
    """A sales domain, a dataset and a metric: a handful of events; answers them all."""
    editor = await sales_setup(client, admin_key)
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(editor)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(), headers=bearer(editor)), 201)
    return await chain_events(client, admin_key)


async def chain_events(client, admin_key) -> list[dict]:
    return (await ok(await client.get("/v1/audit", params={"limit": 500}, headers=bearer(admin_key))))["items"]


async def verdict(client, admin_key) -> dict:
    return await ok(await client.get("/v1/audit/verify", headers=bearer(admin_key)))


def broken_at(report: dict) -> tuple:
    return report["ok"], report["first_broken_seq"], report["code"]


async def test_flipped_byte_is_named_by_verify(client, admin_key, app):
    events = await chain(client, admin_key)
    target = events[3]["seq"]
    assert (await verdict(client, admin_key))["ok"] is True
    flipped = chr(ord(events[3]["actor"][0]) ^ 1) + events[3]["actor"][1:]
    await tamper(app, ("UPDATE audit_events SET actor = :a WHERE seq = :s", {"a": flipped, "s": target}))
    assert broken_at(await verdict(client, admin_key)) == (False, target, "HASH_MISMATCH")


async def test_a_cut_tail_is_detected(client, admin_key, app):
    events = await chain(client, admin_key)
    last = events[-1]["seq"]
    await tamper(app, ("DELETE FROM audit_events WHERE seq > :s", {"s": last - 3}))
    report = await verdict(client, admin_key)
    assert broken_at(report) == (False, last - 2, "TAIL_MISSING") and (report["events"], report["head_seq"]) == (last - 3, last)

    # The next change continues from the head, so the cut stays visible as a gap.
    await make_domain(client, admin_key, "service")
    assert broken_at(await verdict(client, admin_key)) == (False, last - 2, "EVENT_MISSING")


async def test_the_head_is_the_newest_event_signed_under_the_documented_hmac(client, admin_key, settings):
    events = await chain(client, admin_key)
    head = await ok(await client.get("/v1/audit/head", headers=bearer(admin_key)))
    assert (head["seq"], head["hash"]) == (events[-1]["seq"], events[-1]["hash"])
    # docs/audit.md: key = HMAC-SHA256(key text, "yardstick audit chain v1"); key id = first 16 hex of HMAC(key, "key id");
    # hash = HMAC(key, "event\n" + canonical JSON of the fields); head signature = HMAC(key, "head\n" + {seq, hash, key_id}).
    key = hmac.new(settings.secret_key.encode(), b"yardstick audit chain v1", hashlib.sha256).digest()
    key_id = hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:16]

    def mac(purpose: str, value: dict) -> str:
        body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hmac.new(key, f"{purpose}\n{body}".encode(), hashlib.sha256).hexdigest()

    prev = "0" * 64
    for event in events:
        fields = {k: event[k] for k in ("seq", "actor", "action", "entity_kind", "entity_key", "before", "after", "reason", "prev_hash", "key_id")}
        at = dt.datetime.fromisoformat(event["at"].replace("Z", "+00:00")).astimezone(dt.timezone.utc).isoformat()
        assert (event["key_id"], event["prev_hash"], event["hash"]) == (key_id, prev, mac("event", {**fields, "at": at})), event["seq"]
        prev = event["hash"]
    assert head["key_id"] == key_id and head["signature"] == mac("head", {"seq": head["seq"], "hash": head["hash"], "key_id": key_id})


def fields_of(event: dict) -> dict:
    at = dt.datetime.fromisoformat(event["at"].replace("Z", "+00:00")).astimezone(dt.timezone.utc).isoformat()
    return {**{k: event[k] for k in ("seq", "actor", "action", "entity_kind", "entity_key", "before", "after", "reason", "prev_hash")}, "at": at}


def canonical(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def unkeyed(event: dict) -> str:
    """How the chain was hashed before it had a key: SHA-256 of the canonical fields."""
    return hashlib.sha256(canonical(fields_of(event))).hexdigest()


def guessed_key(event: dict) -> str:
    """An HMAC under a key someone might guess: the development secret."""
    key = hmac.new(DEV_SECRET.encode(), b"yardstick audit chain v1", hashlib.sha256).digest()
    return hmac.new(key, b"event\n" + canonical({**fields_of(event), "key_id": event["key_id"]}), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("recompute", [unkeyed, guessed_key])
async def test_a_rewritten_and_recomputed_chain_is_detected(client, admin_key, app, recompute):
    """Rewrite one event, recompute every later hash and move the head to the new last hash."""
    events = await chain(client, admin_key)
    target = events[4]["seq"]
    events[4]["actor"] = "mallory"
    steps, prev = [], events[3]["hash"]
    for event in events[4:]:
        event["prev_hash"] = prev
        event["hash"] = prev = recompute(event)
        steps.append(("UPDATE audit_events SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s",
                      {"a": event["actor"], "p": event["prev_hash"], "h": event["hash"], "s": event["seq"]}))
    await tamper(app, *steps, ("UPDATE audit_head SET hash = :h", {"h": prev}))
    assert broken_at(await verdict(client, admin_key)) == (False, target, "HASH_MISMATCH")


async def test_truncate_and_the_replication_role_are_refused_on_postgresql(client, admin_key, app):
    events = await chain(client, admin_key)
    if not await is_postgresql(app):
        return  # SQLite has no trigger language; the head and the keyed hashes still show every cut (tests above)
    refused = []
    for statement in (
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events WHERE seq > 3",
        "TRUNCATE audit_events",
        "TRUNCATE audit_head",
        "DELETE FROM audit_head",
        "UPDATE audit_head SET seq = seq - 1",
        "SET LOCAL session_replication_role = replica; DELETE FROM audit_events WHERE seq > 3",
        "SET LOCAL session_replication_role = replica; UPDATE audit_events SET actor = 'mallory'",
        "SET LOCAL session_replication_role = replica; UPDATE audit_head SET seq = 3",
    ):
        try:
            async with app.state.db.session(write=True) as session:
                for part in statement.split("; "):
                    await session.execute(text(part))
        except Exception as exc:  # noqa: BLE001 - any driver error is the refusal we want
            refused.append("append-only" in str(exc) or "only moves forward" in str(exc))
    assert refused == [True] * 9
    assert (await verdict(client, admin_key))["ok"] is True and len(await chain_events(client, admin_key)) == len(events)


async def test_a_bypassed_trigger_is_caught_by_the_head(client, admin_key, app):
    """Past the triggers (their owner turned them off), a cut tail with the head moved back to the
    last remaining event still shows: the head's signature was made for another sequence."""
    events = await chain(client, admin_key)
    keep = events[-4]
    await tamper(app, ("DELETE FROM audit_events WHERE seq > :s", {"s": keep["seq"]}),
                 ("UPDATE audit_head SET seq = :s, hash = :h", {"s": keep["seq"], "h": keep["hash"]}))
    assert broken_at(await verdict(client, admin_key)) == (False, keep["seq"], "HEAD_SIGNATURE_INVALID")
    # The head of an empty chain needs no signature, but the chain runs past it.
    await tamper(app, ("UPDATE audit_head SET seq = 0, hash = :g, key_id = NULL, signature = NULL", {"g": "0" * 64}))
    assert broken_at(await verdict(client, admin_key)) == (False, 1, "HEAD_BEHIND")


async def test_a_missing_head_is_reported_and_stops_writes(client, admin_key, app):
    events = await chain(client, admin_key)
    await tamper(app, ("DELETE FROM audit_head", {}))
    assert broken_at(await verdict(client, admin_key)) == (False, 1, "HEAD_MISSING")
    missing = await client.get("/v1/audit/head", headers=bearer(admin_key))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "AUDIT_HEAD_MISSING")
    assert (await client.post("/v1/domains", json={"name": "service"}, headers=bearer(admin_key))).status_code == 500
    domains = await ok(await client.get("/v1/domains", headers=bearer(admin_key)))
    assert "service" not in {d["name"] for d in domains["items"]} and len(await chain_events(client, admin_key)) == len(events)


async def test_a_corrupted_row_is_a_coded_report(client, admin_key, app):
    events = await chain(client, admin_key)
    target = events[5]["seq"]
    # SQLite keeps JSON as text; PostgreSQL's json type accepts an escape that decodes to no valid character.
    bad = "'\"\\ud800\"'" if await is_postgresql(app) else "'{not json'"
    await tamper(app, (f"UPDATE audit_events SET after = {bad} WHERE seq = :s", {"s": target}))
    report = await client.get("/v1/audit/verify", headers=bearer(admin_key))
    assert report.status_code == 200 and broken_at(report.json()) == (False, target, "CORRUPT_ROW")


async def test_rotated_keys_verify_old_events(client, admin_key, app, settings):
    """A new key signs from now on; the previous one, kept in audit_previous_keys, verifies what it signed."""
    before = await chain(client, admin_key)
    rotated = create_app(settings.model_copy(update={"audit_key": "the-next-key", "audit_previous_keys": [settings.secret_key]}))
    forgot = create_app(settings.model_copy(update={"audit_key": "the-next-key"}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rotated), base_url="http://yardstick.test") as new:
            await make_domain(new, admin_key, "service")
            after = (await ok(await new.get("/v1/audit", params={"limit": 500}, headers=bearer(admin_key))))["items"]
            report = await verdict(new, admin_key)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=forgot), base_url="http://yardstick.test") as lost:
            without_old = await verdict(lost, admin_key)
    finally:
        await rotated.state.shutdown()
        await forgot.state.shutdown()
    assert len({e["key_id"] for e in after[: len(before)]}) == 1 and after[-1]["key_id"] != after[0]["key_id"]
    assert (report["ok"], report["events"]) == (True, len(before) + 1)
    assert broken_at(without_old) == (False, 1, "UNKNOWN_KEY")
    assert broken_at(await verdict(client, admin_key)) == (False, len(before) + 1, "UNKNOWN_KEY")  # the old app lacks the new key


async def test_source_password_never_appears(client, admin_key, app, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"postgresql://app:{PASSWORD}@db.internal:5432/warehouse?sslpassword={PASSWORD}"
    seen: list[str] = []

    def collect(response):
        seen.append(response.text)
        seen.append(json.dumps(dict(response.headers)))
        return response

    created = collect(await client.post("/v1/sources", json={"name": "wh", "url": url}, headers=bearer(admin_key)))
    assert created.status_code == 201
    assert created.json()["url"] == "postgresql://app:***@db.internal:5432/warehouse?sslpassword=***"
    collect(await client.post("/v1/sources", json={"name": "wh", "url": url}, headers=bearer(admin_key)))  # 409
    collect(await client.post("/v1/sources", json={"name": "bad", "url": f"mysql://u:{PASSWORD}@h/db"}, headers=bearer(admin_key)))
    collect(await client.get("/v1/sources", headers=bearer(admin_key)))
    collect(await client.get("/v1/sources/wh", headers=bearer(admin_key)))
    collect(await client.get("/v1/audit", headers=bearer(admin_key)))
    await make_domain(client, admin_key, "sales")
    collect(await client.post("/v1/datasets", json=orders_dataset(source="wh"), headers=bearer(admin_key)))
    collect(await client.get("/openapi.json"))
    collect(await client.get("/metrics"))

    for text_seen in seen:
        assert PASSWORD not in text_seen
    assert PASSWORD not in caplog.text
    async with app.state.db.session() as session:
        for table in ("sources", "audit_events", "revisions", "entities", "idempotency_records"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            assert PASSWORD not in repr(rows), table


SPARK_TOKEN = "t0k-7c2e5b1d-unique-Spark"


async def test_spark_connect_token_never_appears(client, admin_key, app):
    url = f"sc://spark.internal:15002/;token={SPARK_TOKEN};user_id=ys"
    created = await ok(await client.post("/v1/sources", json={"name": "sp", "url": url}, headers=bearer(admin_key)), 201)
    assert created["url"] == "sc://spark.internal:15002/;token=***;user_id=ys"
    seen = [json.dumps(created)]
    for path in ("/v1/sources", "/v1/sources/sp", "/v1/audit"):
        seen.append((await client.get(path, headers=bearer(admin_key))).text)
    graphql = await ok(await client.post("/graphql", json={"query": '{ sources { url } source(name: "sp") { url } }'}, headers=bearer(admin_key)))
    assert graphql["data"]["source"]["url"] == created["url"] and graphql["data"]["sources"] == [{"url": created["url"]}]
    for text_seen in seen:
        assert SPARK_TOKEN not in text_seen
    async with app.state.db.session() as session:
        for table in ("sources", "audit_events"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            assert SPARK_TOKEN not in repr(rows), table
