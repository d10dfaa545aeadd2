"""Unexpected failures become INTERNAL without their message; GraphiQL is served only in development."""

from __future__ import annotations

import httpx

from app.auth import service as auth
from app.main import create_app
from tests.graphql.gql import codes, gql


async def test_unexpected_exception_is_internal_and_not_leaked(client, admin_key, monkeypatch):
    async def broken(session):
        raise RuntimeError("password=hunter2 in a stack trace")

    monkeypatch.setattr(auth, "list_domains", broken)
    body = await gql(client, admin_key, "{ domains { name } }")
    assert codes(body) == ["INTERNAL"]
    assert "hunter2" not in str(body) and body["errors"][0]["path"] == ["domains"]


async def test_graphiql_is_served_in_development_only(settings, client):
    assert (await client.get("/graphql", headers={"accept": "text/html"})).status_code != 200
    dev = create_app(settings.model_copy(update={"environment": "development"}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=dev), base_url="http://t") as c:
            page = await c.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
    finally:
        await dev.state.shutdown()
