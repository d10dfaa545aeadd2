"""Every route × every role: who is answered (with the route's success status), who gets 401 or 403.

The table below has one entry per (method, path) of the live app; a route without an entry fails
`test_every_route_has_an_entry`, naming it. Each entry really calls its route, with a body that
succeeds for an allowed role, against the fixture data of authz_world.py (copied for each test).
GraphQL answers HTTP 200 and refuses per field; its rights are compared with REST in tests/graphql.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from tests.api.authz_world import HOOK_SECRET, Ctx, World, build, dataset, metric, settings_for, unique
from tests.conftest import registry_copy
from tests.helpers import ROLES, bearer
from tests.kpi import kpi_data

PRINCIPALS = ["anonymous", *ROLES, "admin"]
EVERYONE = frozenset(PRINCIPALS)  # public routes
SIGNED_IN = EVERYONE - {"anonymous"}  # lists answer everyone, filtered to what each may read
SALES_READERS = frozenset({"reader", "editor", "approver", "global_reader", "auditor", "admin"})
SALES_EDITORS = frozenset({"editor", "admin"})
SALES_APPROVERS = frozenset({"approver", "admin"})
SALES_REVIEWERS = SALES_EDITORS | SALES_APPROVERS  # who records a KPI review
AUDITORS = frozenset({"auditor", "admin"})
ADMINS = frozenset({"admin"})

Make = Callable[[Ctx, World], Awaitable[str]]


@dataclass(frozen=True)
class Case:
    """Who may call, the status they get, and the request: `url` may be made per call (`Make`)."""

    who: frozenset[str]
    status: int = 200
    url: str | Make = ""
    body: Callable[[], Any] | None = None
    if_match: bool = False  # send the current ETag (PATCH)
    headers: dict[str, str] = field(default_factory=dict)


def made(fn: Callable[[Ctx, World], Awaitable[Any]], template: str) -> Make:
    async def url(ctx: Ctx, world: World) -> str:
        return template.format(await fn(ctx, world))
    return url


def fixed(template: str) -> Make:
    async def url(ctx: Ctx, world: World) -> str:
        return template.format(w=world)
    return url


def lifecycle(plural: str) -> dict[tuple[str, str], Case]:
    base = f"/v1/{plural}/{{key}}"
    key = "orders" if plural == "datasets" else "sales.revenue"
    return {
        ("POST", f"{base}/submit"): Case(SALES_EDITORS, 201, made(lambda c, w: c.draft(plural), f"/v1/{plural}/{{}}/submit"),
                                         lambda: {"change_note": "ready"}),
        ("POST", f"{base}/deprecate"): Case(SALES_APPROVERS, 200, made(lambda c, w: c.published(plural), f"/v1/{plural}/{{}}/deprecate"),
                                            lambda: {"reason": "replaced"}),
        ("POST", f"{base}/retire"): Case(SALES_APPROVERS, 200, made(lambda c, w: c.deprecated(plural), f"/v1/{plural}/{{}}/retire"),
                                         lambda: {"reason": "gone"}),
        ("GET", f"{base}/lifecycle"): Case(SALES_READERS, url=f"/v1/{plural}/{key}/lifecycle"),
        ("GET", f"{base}/lineage"): Case(SALES_READERS, url=f"/v1/{plural}/{key}/lineage"),
        ("GET", f"{base}/impact"): Case(SALES_READERS, url=f"/v1/{plural}/{key}/impact"),
    }


def versioned(plural: str, key: str, new: Callable[[], dict], change: Callable[[], dict]) -> dict[tuple[str, str], Case]:
    base = f"/v1/{plural}"
    return {
        ("GET", base): Case(SIGNED_IN, url=base),
        ("POST", base): Case(SALES_EDITORS, 201, base, new),
        ("GET", f"{base}/{{key}}"): Case(SALES_READERS, url=f"{base}/{key}"),
        ("PATCH", f"{base}/{{key}}"): Case(SALES_EDITORS, 200, f"{base}/{key}", change, if_match=True),
        ("GET", f"{base}/{{key}}/versions"): Case(SALES_READERS, url=f"{base}/{key}/versions"),
        ("GET", f"{base}/{{key}}/diff"): Case(SALES_READERS, url=f"{base}/{key}/diff?from=1&to=1"),
    }


def scorecard() -> dict:
    return {"name": unique("card"), "title": "Card", "domain": "sales", "owner": "alice",
            "root": {"label": "sales", "children": [{"metric": "sales.revenue", "weight": 100}]}}


QUERY = {"metrics": ["sales.revenue"], "time": {"grain": "month", "start": "2026-01-01", "end": "2026-04-01"}}
TARGETS = {"targets": [{"metric": "sales.revenue", "period": "2026-Q2", "value": 2000, "owner": "alice"}]}

MATRIX: dict[tuple[str, str], Case] = {
    # operations and documentation
    ("GET", "/healthz"): Case(EVERYONE, url="/healthz"),
    ("GET", "/readyz"): Case(EVERYONE, url="/readyz"),
    ("GET", "/metrics"): Case(EVERYONE, url="/metrics"),
    ("GET", "/openapi.json"): Case(EVERYONE, url="/openapi.json"),
    ("GET", "/docs"): Case(EVERYONE, url="/docs"),
    ("GET", "/redoc"): Case(EVERYONE, url="/redoc"),
    ("GET", "/graphql"): Case(EVERYONE, url="/graphql", headers={"accept": "text/html"}),
    ("POST", "/graphql"): Case(EVERYONE, url="/graphql", body=lambda: {"query": "{ domains { name } }"}),
    # administration
    ("GET", "/v1/domains"): Case(SIGNED_IN, url="/v1/domains"),
    ("POST", "/v1/domains"): Case(ADMINS, 201, "/v1/domains", lambda: {"name": unique("d")}),
    ("GET", "/v1/principals"): Case(ADMINS, url="/v1/principals"),
    ("POST", "/v1/principals"): Case(ADMINS, 201, "/v1/principals", lambda: {"name": unique("p")}),
    ("PUT", "/v1/principals/{name}/roles"): Case(ADMINS, 200, "/v1/principals/victim/roles",
                                                 lambda: {"roles": [{"role": "reader", "domain": "sales"}]}),
    ("POST", "/v1/principals/{name}/keys"): Case(ADMINS, 201, "/v1/principals/victim/keys", lambda: {"label": "x"}),
    ("DELETE", "/v1/keys/{key_id}"): Case(ADMINS, 200, made(lambda c, w: c.key_id(), "/v1/keys/{}")),
    ("GET", "/v1/sources"): Case(ADMINS, url="/v1/sources"),
    ("POST", "/v1/sources"): Case(ADMINS, 201, "/v1/sources", lambda: {"name": unique("s"), "url": "duckdb:///tmp/x.duckdb"}),
    ("GET", "/v1/sources/{name}"): Case(ADMINS, url="/v1/sources/shop"),
    ("GET", "/v1/audit"): Case(AUDITORS, url="/v1/audit"),
    ("GET", "/v1/audit/verify"): Case(AUDITORS, url="/v1/audit/verify"),
    ("GET", "/v1/audit/head"): Case(AUDITORS, url="/v1/audit/head"),
    # the catalog, versioned
    **versioned("datasets", "orders", lambda: dataset(unique("orders_")), lambda: {"description": unique("changed ")}),
    **versioned("metrics", "sales.revenue", lambda: metric(unique("sales.m")), lambda: {"description": unique("changed ")}),
    **versioned("scorecards", "shop", scorecard, lambda: {"title": unique("Shop ")}),
    # governance
    ("GET", "/v1/domains/{name}/policy"): Case(SALES_READERS, url="/v1/domains/sales/policy"),
    ("PUT", "/v1/domains/{name}/policy"): Case(ADMINS, 200, "/v1/domains/sales/policy", lambda: {"review_required": False}),
    ("GET", "/v1/metrics/duplicates"): Case(SIGNED_IN, url="/v1/metrics/duplicates"),
    **lifecycle("datasets"),
    **lifecycle("metrics"),
    ("GET", "/v1/proposals"): Case(SIGNED_IN, url="/v1/proposals"),
    ("GET", "/v1/proposals/{proposal_id}"): Case(SALES_READERS, url=fixed("/v1/proposals/{w.proposal}")),
    ("POST", "/v1/proposals/{proposal_id}/accept"): Case(SALES_APPROVERS, 200, made(lambda c, w: c.proposal(), "/v1/proposals/{}/accept"),
                                                         lambda: {"comment": "ok"}),
    ("POST", "/v1/proposals/{proposal_id}/reject"): Case(SALES_APPROVERS, 200, made(lambda c, w: c.proposal(), "/v1/proposals/{}/reject"),
                                                         lambda: {"comment": "no"}),
    ("POST", "/v1/batches"): Case(SALES_EDITORS, 200, "/v1/batches",
                                  lambda: {"items": [{"kind": "metric", "definition": metric(unique("sales.b"))}], "dry_run": True}),
    ("GET", "/v1/changes"): Case(SIGNED_IN, url="/v1/changes"),
    ("POST", "/v1/webhooks"): Case(SALES_EDITORS, 201, "/v1/webhooks",
                                   lambda: {"url": "http://127.0.0.1:9/hook", "secret": HOOK_SECRET, "domain": "sales"}),
    ("GET", "/v1/webhooks"): Case(SIGNED_IN, url="/v1/webhooks"),
    ("DELETE", "/v1/webhooks/{hook_id}"): Case(ADMINS, 200, made(lambda c, w: c.webhook(), "/v1/webhooks/{}")),  # and its creator
    ("GET", "/v1/webhooks/{hook_id}/deliveries"): Case(ADMINS, url=fixed("/v1/webhooks/{w.webhook}/deliveries")),
    # querying
    ("POST", "/v1/query"): Case(SALES_READERS, 200, "/v1/query", lambda: QUERY),
    ("POST", "/v1/query/sql"): Case(SALES_READERS, 200, "/v1/query/sql", lambda: QUERY),
    # KPIs
    ("PUT", "/v1/targets"): Case(SALES_EDITORS, 200, "/v1/targets", lambda: TARGETS),
    ("GET", "/v1/targets"): Case(SIGNED_IN, url="/v1/targets"),
    ("GET", "/v1/targets/{key}"): Case(SALES_READERS, url=fixed("/v1/targets/{w.target}")),
    ("GET", "/v1/targets/{key}/versions"): Case(SALES_READERS, url=fixed("/v1/targets/{w.target}/versions")),
    ("GET", "/v1/targets/{key}/diff"): Case(SALES_READERS, url=fixed("/v1/targets/{w.target}/diff?from=1&to=1")),
    ("GET", "/v1/scorecards/{key}/evaluate"): Case(SALES_READERS, url="/v1/scorecards/shop/evaluate?period=2026-Q1"),
    ("GET", "/v1/metrics/{key}/checks"): Case(SALES_READERS, url="/v1/metrics/sales.revenue/checks"),
    ("GET", "/v1/domains/{name}/checks"): Case(SALES_READERS, url="/v1/domains/sales/checks"),
    ("POST", "/v1/metrics/{key}/reviews"): Case(SALES_REVIEWERS, 201, "/v1/metrics/sales.revenue/reviews", lambda: {"outcome": "on_track"}),
    ("GET", "/v1/metrics/{key}/reviews"): Case(SALES_READERS, url="/v1/metrics/sales.revenue/reviews"),
    ("GET", "/v1/reviews/overdue"): Case(SIGNED_IN, url="/v1/reviews/overdue"),
}


def live_operations(app) -> set[tuple[str, str]]:
    """Every (method, path) the app answers over HTTP; HEAD comes with GET, static mounts have none."""
    return {(m, c.path) for c in iter_route_contexts(app.routes) for m in (c.methods or set()) - {"HEAD"}}


@pytest.fixture(scope="module")
async def world(registry_template, tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("authz")
    kpi_data.build(root / "shop.duckdb")
    async with registry_copy(registry_template, root) as (url, template):
        yield await build(url, root / "var", root / "shop.duckdb", template)


@pytest.fixture
async def database_url(world, tmp_path):
    async with registry_copy(world.template, tmp_path) as (url, _):
        yield url


@pytest.fixture
def settings(database_url, tmp_path):
    return settings_for(database_url, tmp_path / "var")


def test_every_route_has_an_entry(app):
    live = live_operations(app)
    assert not live - MATRIX.keys(), f"routes without an authorization matrix entry: {sorted(live - MATRIX.keys())}"
    assert not MATRIX.keys() - live, f"matrix entries for routes that do not exist: {sorted(MATRIX.keys() - live)}"


@pytest.mark.parametrize("operation", sorted(MATRIX), ids=" ".join)
async def test_who_may_call(client, world, operation):
    method, _ = operation
    case = MATRIX[operation]
    ctx = Ctx(client, world.keys["admin"], world.author)
    failures = []
    for principal in PRINCIPALS:
        url = case.url if isinstance(case.url, str) else await case.url(ctx, world)
        key = world.keys[principal]
        headers = {**case.headers, **(bearer(key) if key else {})}
        if case.if_match:
            headers["If-Match"] = await ctx.etag(url)
        response = await client.request(method, url, json=case.body() if case.body else None, headers=headers)
        expected = case.status if principal in case.who else 401 if key is None else 403
        if response.status_code != expected:
            failures.append((principal, response.status_code, expected, response.text[:300]))
        elif expected in (401, 403):
            code = response.json()["error"]["code"]
            if code != ("UNAUTHENTICATED" if expected == 401 else "FORBIDDEN"):
                failures.append((principal, expected, code))
    assert not failures, "\n".join(map(str, failures))
