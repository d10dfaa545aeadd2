"""The fixture data of the authorization matrix, built once per module and copied for each test.

Two domains (sales, service) over the tiny KPI warehouse, one principal per role, and what the
routes act on: a target, a scorecard, an open proposal and a webhook by a sales editor (the
author, who is none of the roles tried). `Ctx` makes fresh objects for calls that use one up.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from app.auth.service import bootstrap_admin
from app.config import Settings
from app.main import create_app
from tests.helpers import ROLES, bearer, make_domain, make_principal, make_source, ok
from tests.kpi import kpi_data

SECRET = "authorization-matrix-secret-key"  # the world seals its source URL with it
HOOK_SECRET = "a-long-enough-webhook-secret"
_n = itertools.count()


@dataclass(frozen=True)
class World:
    template: Path | str  # the registry to copy (a SQLite file or a PostgreSQL database name)
    keys: dict[str, str | None]  # principal -> API key; "anonymous" has none
    author: str  # key of a sales editor outside the roles tried
    target: str  # URL-quoted key of a sales target
    proposal: int  # an open proposal by the author
    webhook: int  # a webhook of the author's


def unique(prefix: str) -> str:
    return f"{prefix}{next(_n)}"


def metric(key: str, **extra) -> dict:
    """A sales metric with its own calculation (the library refuses equivalent ones)."""
    return {"key": key, "name": key, "domain": "sales", "owner": "alice", "type": "simple", "dataset": "orders",
            "measure": "SUM(amount)", "filter": f"order_id <> '{key}'", **extra}


def dataset(name: str, **extra) -> dict:
    return {**kpi_data.DATASETS[0], "name": name, **extra}


def settings_for(url: str, var_dir: Path) -> Settings:
    """The default environment (development), where GET /graphql serves GraphiQL too."""
    return Settings(environment="development", database_url=url, var_dir=var_dir, secret_key=SECRET, log_json=True)


async def build(url: str, var_dir: Path, shop: Path, template: Path | str) -> World:
    app = create_app(settings_for(url, var_dir))
    try:
        async with app.state.db.session(write=True) as session:
            admin = await bootstrap_admin(session)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://yardstick.test") as client:
            return await _populate(client, admin, shop, template)
    finally:
        await app.state.shutdown()


async def _populate(client: httpx.AsyncClient, admin: str, shop: Path, template: Path | str) -> World:
    for domain in ("sales", "service"):
        await make_domain(client, admin, domain)
    await make_source(client, admin, "shop", f"duckdb://{shop}")
    for path, items in (("/v1/datasets", kpi_data.DATASETS), ("/v1/metrics", kpi_data.METRICS)):
        for item in items:
            await ok(await client.post(path, json=item, headers=bearer(admin)), 201)
    keys: dict[str, str | None] = {"anonymous": None}
    for role, grants in ROLES.items():
        keys[role] = await make_principal(client, admin, role, grants)
    keys["admin"] = admin
    author = await make_principal(client, admin, "author", [{"role": "editor", "domain": "sales"}])
    await make_principal(client, admin, "victim", [])
    targets = {"targets": [{"metric": "sales.revenue", "period": "2026-Q1", "value": 1000, "owner": "alice"}]}
    target = (await ok(await client.put("/v1/targets", json=targets, headers=bearer(admin))))["items"][0]["key"]
    card = {"name": "shop", "title": "Shop", "domain": "sales", "owner": "alice", "root": {
        "label": "sales", "children": [{"metric": "sales.revenue", "weight": 60}, {"metric": "sales.orders", "weight": 40}]}}
    await ok(await client.post("/v1/scorecards", json=card, headers=bearer(admin)), 201)
    ctx = Ctx(client, admin, author)
    return World(template, keys, author, quote(target, safe=""), await ctx.proposal(), await ctx.webhook())


@dataclass(frozen=True)
class Ctx:
    """Makes, as admin or as the author, a fresh object for one call of a route that uses it up."""

    client: httpx.AsyncClient
    admin: str
    author: str

    async def _post(self, key: str, path: str, body: dict, status: int = 201) -> dict:
        return await ok(await self.client.post(path, json=body, headers=bearer(key)), status)

    async def key_id(self) -> str:
        return (await self._post(self.admin, "/v1/principals/victim/keys", {"label": "spare"}))["id"]

    async def published(self, plural: str) -> str:
        body = metric(unique("sales.p")) if plural == "metrics" else dataset(unique("orders_p"))
        return (await self._post(self.author, f"/v1/{plural}", body))["key"]

    async def deprecated(self, plural: str) -> str:
        key = await self.published(plural)
        await self._post(self.admin, f"/v1/{plural}/{key}/deprecate", {"reason": "replaced"}, 200)
        return key

    async def draft(self, plural: str) -> str:
        body = metric(unique("sales.d")) if plural == "metrics" else dataset(unique("orders_d"))
        return (await self._post(self.author, f"/v1/{plural}", {**body, "status": "draft"}))["key"]

    async def proposal(self) -> int:
        key = await self.draft("metrics")
        return (await self._post(self.author, f"/v1/metrics/{key}/submit", {"change_note": "ready"}))["id"]

    async def webhook(self) -> int:
        body = {"url": "http://127.0.0.1:9/hook", "secret": HOOK_SECRET, "domain": "sales"}
        return (await self._post(self.author, "/v1/webhooks", body))["id"]

    async def etag(self, path: str) -> str:
        return (await self.client.get(path, headers=bearer(self.admin))).headers["etag"]
