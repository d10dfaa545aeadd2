"""The same writes sent through REST to one registry and through GraphQL to another, identical one,
answer the same (entity, proposal, stale version, refusal) and leave the same audit trail: every
mutation calls the service command its REST twin calls."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import GraphQLUnionType, get_named_type

from app.auth.service import bootstrap_admin
from app.main import create_app
from tests.conftest import registry_copy
from tests.governance.conftest import customers_dataset
from tests.graphql.gql import SCHEMA, codes, gql, selection, snake
from tests.graphql.twins import ENTITY, gql_view, rest_view
from tests.helpers import bearer, gmv_metric, make_domain, make_principal, make_source, ok, orders_dataset

PROPOSAL_DOMAIN = "proposalDomain"
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?$")
REVIEWED_AT = "2026-01-15T10:00:00Z"
BOARD = {"name": "board", "title": "Board", "domain": "sales", "owner": "alice", "root": {"label": "all", "children": [{"metric": "sales.gmv"}]}}
COPY = {**gmv_metric(), "key": "sales.gmv_copy"}
ALLOW, ALLOW_ARGS = {"allow_duplicate": True, "duplicate_reason": "finance keeps its own"}, {"allowDuplicate": True, "duplicateReason": "finance keeps its own"}


@dataclass(frozen=True)
class Step:
    role: str
    method: str
    path: str
    body: Any
    field: str  # the GraphQL twin
    args: dict[str, Any]  # its arguments
    if_match: str | None = None


def _steps() -> list[Step]:
    note = {"change_note": "first"}
    return [
        Step("admin", "POST", "/v1/domains", {"name": "finance", "description": "money"}, "createDomain", {"input": {"name": "finance", "description": "money"}}),
        Step("other", "POST", "/v1/domains", {"name": "hr"}, "createDomain", {"input": {"name": "hr"}}),
        Step("editor", "POST", "/v1/datasets", {**orders_dataset(), **note}, "createDataset", {"definition": orders_dataset(), "changeNote": "first"}),
        Step("editor", "POST", "/v1/datasets", customers_dataset(), "createDataset", {"definition": customers_dataset()}),
        Step("editor", "POST", "/v1/datasets", {**orders_dataset(name="drafts"), "status": "draft"}, "createDataset",
             {"definition": orders_dataset(name="drafts"), "status": "draft"}),
        Step("editor", "POST", "/v1/metrics", {**gmv_metric(), **note}, "createMetric", {"definition": gmv_metric(), "changeNote": "first"}),
        Step("editor", "POST", "/v1/metrics", COPY, "createMetric", {"definition": COPY}),
        Step("editor", "POST", "/v1/metrics", {**COPY, **ALLOW}, "createMetric", {"definition": COPY, **ALLOW_ARGS}),
        Step("editor", "POST", "/v1/metrics", {**gmv_metric(key="sales.draft"), "status": "draft"}, "createMetric",
             {"definition": gmv_metric(key="sales.draft"), "status": "draft"}),
        Step("editor", "POST", "/v1/metrics", {**gmv_metric(key="sales.bad"), "measure": 42}, "createMetric",
             {"definition": {**gmv_metric(key="sales.bad"), "measure": 42}}),
        Step("other", "POST", "/v1/metrics", gmv_metric(key="sales.other"), "createMetric", {"definition": gmv_metric(key="sales.other")}),
        Step("editor", "PATCH", "/v1/metrics/sales.gmv", {"description": "paid orders"}, "updateMetric",
             {"key": "sales.gmv", "patch": {"description": "paid orders"}, "expectedVersion": 1}, '"1"'),
        Step("editor", "PATCH", "/v1/metrics/sales.gmv", {"description": "paid orders", "change_note": "wording", **ALLOW}, "updateMetric",
             {"key": "sales.gmv", "patch": {"description": "paid orders"}, "expectedVersion": 1, "changeNote": "wording", **ALLOW_ARGS}, '"1"'),
        Step("editor", "PATCH", "/v1/metrics/sales.gmv", {"description": "stale"}, "updateMetric",
             {"key": "sales.gmv", "patch": {"description": "stale"}, "expectedVersion": 1}, '"1"'),
        Step("editor", "PATCH", "/v1/metrics/sales.gmv", {"domain": "finance"}, "updateMetric",
             {"key": "sales.gmv", "patch": {"domain": "finance"}, "expectedVersion": 2}, '"2"'),
        Step("editor", "PATCH", "/v1/datasets/orders", {"description": "all orders"}, "updateDataset",
             {"key": "orders", "patch": {"description": "all orders"}, "expectedVersion": 1}, '"1"'),
        Step("editor", "POST", "/v1/scorecards", BOARD, "createScorecard", {"definition": BOARD}),
        Step("editor", "PATCH", "/v1/scorecards/board", {"title": "Board room"}, "updateScorecard",
             {"name": "board", "patch": {"title": "Board room"}, "expectedVersion": 1}, '"1"'),
        Step("editor", "PUT", "/v1/targets", {"targets": [{"metric": "sales.gmv", "period": "2026-Q1", "value": 1000, "owner": "alice",
                                                            "scope": {"orders.region": "East"}}], "change_note": "plan"},
             "setTargets", {"input": {"targets": [{"metric": "sales.gmv", "period": "2026-Q1", "value": 1000, "owner": "alice",
                                                   "scope": {"orders.region": "East"}}], "changeNote": "plan"}}),
        Step("editor", "PUT", "/v1/targets", {"targets": [{"metric": "sales.nope", "period": "2026-Q1", "value": 1, "owner": "alice"}]},
             "setTargets", {"input": {"targets": [{"metric": "sales.nope", "period": "2026-Q1", "value": 1, "owner": "alice"}]}}),
        Step("editor", "POST", "/v1/metrics/sales.gmv/reviews", {"outcome": "on_track", "note": "fine", "reviewed_at": REVIEWED_AT},
             "recordMetricReview", {"key": "sales.gmv", "input": {"outcome": "on_track", "note": "fine", "reviewedAt": REVIEWED_AT}}),
        Step("editor", "POST", "/v1/metrics/sales.gmv/reviews", {"outcome": "great"}, "recordMetricReview",
             {"key": "sales.gmv", "input": {"outcome": "great"}}),
        Step("editor", "POST", "/v1/metrics/sales.draft/submit", {"change_note": "ready"}, "submitMetric", {"key": "sales.draft", "input": {"changeNote": "ready"}}),
        Step("editor", "POST", "/v1/datasets/drafts/submit", None, "submitDataset", {"key": "drafts"}),
        Step("editor", "POST", "/v1/proposals/1/accept", {"comment": "mine"}, "acceptProposal", {"id": 1, "input": {"comment": "mine"}}),
        Step("approver", "POST", "/v1/proposals/1/accept", {"comment": "ok"}, "acceptProposal", {"id": 1, "input": {"comment": "ok"}}),
        Step("approver", "POST", "/v1/proposals/2/reject", {"comment": "not yet"}, "rejectProposal", {"id": 2, "input": {"comment": "not yet"}}),
        Step("approver", "POST", "/v1/proposals/2/reject", {"comment": "again"}, "rejectProposal", {"id": 2, "input": {"comment": "again"}}),
        Step("editor", "PUT", "/v1/domains/sales/policy", {"review_required": True}, "setDomainPolicy", {"name": "sales", "input": {"reviewRequired": True}}),
        Step("admin", "PUT", "/v1/domains/sales/policy", {"review_required": True}, "setDomainPolicy", {"name": "sales", "input": {"reviewRequired": True}}),
        Step("editor", "PATCH", "/v1/metrics/sales.gmv", {"caliber": "reviewed", "change_note": "caliber", **ALLOW}, "updateMetric",
             {"key": "sales.gmv", "patch": {"caliber": "reviewed"}, "expectedVersion": 2, "changeNote": "caliber", **ALLOW_ARGS}, '"2"'),
        Step("editor", "PATCH", "/v1/datasets/orders", {"description": "every order"}, "updateDataset",
             {"key": "orders", "patch": {"description": "every order"}, "expectedVersion": 2}, '"2"'),
        Step("approver", "POST", "/v1/proposals/3/accept", {"comment": "agreed"}, "acceptProposal", {"id": 3, "input": {"comment": "agreed"}}),
        Step("approver", "POST", "/v1/metrics/sales.gmv_copy/deprecate", {"replacement": "sales.gmv", "sunset": "2027-01-01", "reason": "one gmv"},
             "deprecateMetric", {"key": "sales.gmv_copy", "input": {"replacement": "sales.gmv", "sunset": "2027-01-01", "reason": "one gmv"}}),
        Step("approver", "POST", "/v1/metrics/sales.gmv_copy/retire", {"reason": "gone"}, "retireMetric", {"key": "sales.gmv_copy", "input": {"reason": "gone"}}),
        Step("approver", "POST", "/v1/datasets/customers/deprecate", {}, "deprecateDataset", {"key": "customers", "input": {}}),
        Step("approver", "POST", "/v1/datasets/customers/retire", None, "retireDataset", {"key": "customers"}),
        Step("approver", "POST", "/v1/datasets/orders/deprecate", {"sunset": "soon"}, "deprecateDataset", {"key": "orders", "input": {"sunset": "soon"}}),
        Step("approver", "POST", "/v1/datasets/orders/deprecate", {"reason": "moving"}, "deprecateDataset", {"key": "orders", "input": {"reason": "moving"}}),
        Step("approver", "POST", "/v1/datasets/orders/retire", None, "retireDataset", {"key": "orders"}),
        Step("anonymous", "PATCH", "/v1/metrics/sales.gmv", {"description": "x"}, "updateMetric",
             {"key": "sales.gmv", "patch": {"description": "x"}, "expectedVersion": 3}, '"3"'),
    ]


def answer_selection(type_name: str) -> str:
    """What REST answers of a type: an entity's REST fields, every member of a union, every field otherwise."""
    named = SCHEMA.get_type(type_name)
    if isinstance(named, GraphQLUnionType):  # a proposal's domain is a name, an entity's a Domain: one is aliased
        members = {m.name: answer_selection(m.name) for m in named.types}
        if "Proposal" in members:
            members["Proposal"] = members["Proposal"].replace("domain", f"{PROPOSAL_DOMAIN}: domain", 1)
        return "__typename " + " ".join(f"... on {name} {{ {fields} }}" for name, fields in members.items())
    if any(i.name == "Versioned" for i in getattr(named, "interfaces", ())):
        return ENTITY
    return selection(type_name)


def document(field: str, args: dict[str, Any]) -> str:
    definition = SCHEMA.mutation_type.fields[field]
    declared = ", ".join(f"${name}: {definition.args[name].type}" for name in args)
    passed = ", ".join(f"{name}: ${name}" for name in args)
    head = f"mutation({declared}) {{ {field}({passed})" if args else f"mutation {{ {field}"
    return f"{head} {{ {answer_selection(get_named_type(definition.type).name)} }} }}"


def masked(value: Any) -> Any:
    """Moments differ between the two registries; everything else must not."""
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    return "<moment>" if isinstance(value, str) and ISO_TIME.match(value) else value


async def _world(client: httpx.AsyncClient, admin: str, warehouse: str) -> dict[str, str | None]:
    for domain in ("sales", "service"):
        await make_domain(client, admin, domain)
    await make_source(client, admin, "warehouse", warehouse)
    keys: dict[str, str | None] = {"admin": admin, "anonymous": None}
    for role, grants in (("editor", [{"role": "editor", "domain": "sales"}]), ("approver", [{"role": "approver", "domain": "sales"}]),
                         ("other", [{"role": "editor", "domain": "service"}])):
        keys[role] = await make_principal(client, admin, role, grants)
    return keys


@pytest.fixture
async def worlds(client, admin_key, settings, registry_template, tmp_path):
    """(REST's client and keys, GraphQL's client and keys): two registries set up the same way."""
    warehouse = f"duckdb:///{tmp_path}/warehouse.duckdb"
    (tmp_path / "second").mkdir()
    async with registry_copy(registry_template, tmp_path / "second") as (url, _):
        second = create_app(settings.model_copy(update={"database_url": url, "var_dir": tmp_path / "second" / "var"}))
        try:
            async with second.state.db.session(write=True) as session:
                second_admin = await bootstrap_admin(session)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://yardstick.test") as other:
                yield (client, await _world(client, admin_key, warehouse)), (other, await _world(other, second_admin, warehouse))
        finally:
            await second.state.shutdown()


async def _audit_trail(client: httpx.AsyncClient, admin: str, after: int) -> list[dict]:
    events = (await ok(await client.get("/v1/audit", params={"limit": 500}, headers=bearer(admin))))["items"]
    keep = ("actor", "action", "entity_kind", "entity_key", "before", "after", "reason")
    return [masked({k: e[k] for k in keep}) for e in events if e["seq"] > after]


def _differences(step: Step, rest: httpx.Response, body: dict[str, Any]) -> list[Any]:
    answer = (body.get("data") or {}).get(step.field)
    if rest.status_code < 300:
        got = dict(answer or {})
        typename = got.pop("__typename", None)
        if PROPOSAL_DOMAIN in got:
            got["domain"] = got.pop(PROPOSAL_DOMAIN)
        wrong_type = typename is not None and (typename == "Proposal") != (rest.status_code == 202)
        if body.get("errors") or wrong_type or masked(gql_view(snake(got))) != masked(rest_view(rest.json())):
            return [(step, rest.status_code, rest.json(), body)]
        return []
    error = rest.json()["error"]
    if error["code"] == "STALE_VERSION":
        expected = {"__typename": "StaleVersionError", "code": "STALE_VERSION", "message": error["message"],
                    "currentVersion": error["details"]["current_version"], "etag": error["details"]["etag"]}
        return [] if answer == expected else [(step, error, body)]
    details = (body.get("errors") or [{}])[0].get("extensions", {}).get("details")
    return [] if codes(body) == [error["code"]] and details == error["details"] and answer is None else [(step, error, body)]


async def test_writes_through_either_transport_answer_and_record_the_same(worlds):
    (rest_client, rest_keys), (gql_client, gql_keys) = worlds
    baseline = len((await ok(await rest_client.get("/v1/audit", params={"limit": 500}, headers=bearer(rest_keys["admin"]))))["items"])
    steps, failures, statuses = _steps(), [], set()
    for step in steps:
        key = rest_keys[step.role]
        headers = {**(bearer(key) if key else {}), **({"If-Match": step.if_match} if step.if_match else {})}
        rest = await rest_client.request(step.method, step.path, json=step.body, headers=headers)
        body = await gql(gql_client, gql_keys[step.role], document(step.field, step.args), step.args)
        statuses.add(rest.status_code)
        failures += _differences(step, rest, body)
    assert failures == [], "\n".join(map(str, failures))
    assert {200, 201, 202, 401, 403, 409, 412, 422} <= statuses
    assert {s.field for s in steps} == set(SCHEMA.mutation_type.fields)  # every mutation is exercised
    rest_trail = await _audit_trail(rest_client, rest_keys["admin"], baseline)
    assert len(rest_trail) > 20 and rest_trail == await _audit_trail(gql_client, gql_keys["admin"], baseline)
