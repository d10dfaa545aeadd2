"""The audit chain catches tampering; a source password never leaves the service."""

from __future__ import annotations

import json
import logging

from sqlalchemy import text

from tests.helpers import bearer, gmv_metric, make_domain, ok, orders_dataset, sales_setup

PASSWORD = "Pw-4f1c9e7a-unique-Zq"


async def test_flipped_byte_is_named_by_verify(client, admin_key, app):
    editor = await sales_setup(client, admin_key)
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(editor)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(), headers=bearer(editor)), 201)
    events = await ok(await client.get("/v1/audit", headers=bearer(admin_key)))
    target = events["items"][3]["seq"]
    assert (await ok(await client.get("/v1/audit/verify", headers=bearer(admin_key))))["ok"] is True

    async with app.state.db.session(write=True) as session:
        if session.bind.dialect.name == "postgresql":
            await session.execute(text("SET LOCAL session_replication_role = replica"))  # skip the append-only trigger
        reason = (await session.execute(text("SELECT actor FROM audit_events WHERE seq = :s"), {"s": target})).scalar_one()
        flipped = chr(ord(reason[0]) ^ 1) + reason[1:]
        await session.execute(text("UPDATE audit_events SET actor = :a WHERE seq = :s"), {"a": flipped, "s": target})

    verdict = await ok(await client.get("/v1/audit/verify", headers=bearer(admin_key)))
    assert verdict["ok"] is False and verdict["first_broken_seq"] == target


async def test_audit_rows_cannot_be_updated_on_postgresql(client, admin_key, app):
    await make_domain(client, admin_key, "sales")
    async with app.state.db.session() as session:
        if session.bind.dialect.name != "postgresql":
            return  # SQLite has no trigger language; the chain still detects edits (test above)
    try:
        async with app.state.db.session(write=True) as session:
            await session.execute(text("UPDATE audit_events SET actor = 'mallory'"))
        raise AssertionError("the trigger should refuse the update")
    except Exception as exc:  # noqa: BLE001 - any driver error is the refusal we want
        assert "append-only" in str(exc)


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
