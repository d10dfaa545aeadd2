"""Duplicate detection: equivalent calculations are caught however they are written; real differences are not."""

from __future__ import annotations

import pytest

from app.catalog.fingerprint import fingerprint
from app.compiler.definitions import SimpleMetric
from tests.governance.conftest import set_policy
from tests.helpers import bearer, ok, orders_dataset


def simple(key: str, measure: str, filter_: str | None, dataset: str = "orders") -> dict:
    body = {"key": key, "name": key, "domain": "sales", "owner": "alice", "type": "simple", "dataset": dataset, "measure": measure}
    return {**body, "filter": filter_} if filter_ else body


BASE = ("SUM(amount)", "status = 'paid' AND amount >= 10 AND amount <= 500")
EQUIVALENT = [
    ("sum( amount )", "status='paid'   and amount>=10 and amount<=500"),  # formatting and case
    ('SUM("amount")', "\"status\" = 'paid' AND orders.amount BETWEEN 10 AND 500"),  # quoting, qualifier, BETWEEN
    ("SUM(amount)", "amount <= 500 AND 'paid' = status AND amount >= 10"),  # AND order, operand order
    ("SUM(amount)", "(amount BETWEEN 10 AND 500) AND (status = 'paid')"),  # parentheses
]
DIFFERENT = [
    ("SUM(amount)", "status = 'refunded' AND amount BETWEEN 10 AND 500"),  # filter value
    ("SUM(amount)", "status = 'paid' AND amount BETWEEN 10 AND 400"),  # range
    ("SUM(amount)", "status = 'paid' AND amount >= 10"),  # fewer conditions
    ("SUM(net_amount)", BASE[1]),  # measure
]


def _fp(measure: str, filter_: str | None, dataset: str = "orders") -> str:
    return fingerprint(SimpleMetric.model_validate(simple("sales.x", measure, filter_, dataset)))


@pytest.mark.parametrize("measure,filter_", EQUIVALENT)
def test_equivalent_calculations_share_a_fingerprint(measure, filter_):
    assert _fp(measure, filter_) == _fp(*BASE)


@pytest.mark.parametrize("measure,filter_", DIFFERENT)
def test_different_calculations_do_not(measure, filter_):
    assert _fp(measure, filter_) != _fp(*BASE)


def test_commutative_arithmetic_and_in_lists():
    assert _fp("SUM(amount * 2 + net_amount)", "region IN ('b', 'a')") == _fp("sum(net_amount + 2*amount)", "region in ('a','b')")
    assert _fp("SUM(amount - net_amount)", None) != _fp("SUM(net_amount - amount)", None)
    assert _fp("SUM(amount)", None) != _fp("SUM(amount)", None, dataset="orders2")


async def test_api_refuses_duplicates_where_the_domain_asks(client, team):
    await ok(await client.post("/v1/datasets", json=orders_dataset(name="orders2"), headers=bearer(team.editor)), 201)
    await ok(await client.post("/v1/metrics", json=simple("sales.base", *BASE), headers=bearer(team.editor)), 201)
    # Default policy: one indicator, one caliber.
    refused = await client.post("/v1/metrics", json=simple("sales.noted", *EQUIVALENT[0]), headers=bearer(team.editor))
    assert refused.status_code == 409 and refused.json()["error"]["details"]["existing"] == ["sales.base"]
    # A domain that turned refusal off accepts it, the equivalence noted in the audit event.
    await set_policy(client, team.admin, refuse_duplicates=False)
    await ok(await client.post("/v1/metrics", json=simple("sales.noted", *EQUIVALENT[0]), headers=bearer(team.editor)), 201)
    event = (await ok(await client.get("/v1/audit", params={"entity_key": "sales.noted"}, headers=bearer(team.admin))))["items"][0]
    assert event["after"]["equivalent_to"] == ["sales.base"]

    await set_policy(client, team.admin, refuse_duplicates=True)
    for i, (measure, filter_) in enumerate(EQUIVALENT[1:]):
        refused = await client.post("/v1/metrics", json=simple(f"sales.dup{i}", measure, filter_), headers=bearer(team.editor))
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "DUPLICATE_METRIC"
        assert refused.json()["error"]["details"]["existing"] == ["sales.base", "sales.noted"]
    for i, (measure, filter_) in enumerate(DIFFERENT):
        await ok(await client.post("/v1/metrics", json=simple(f"sales.diff{i}", measure, filter_), headers=bearer(team.editor)), 201)
    await ok(await client.post("/v1/metrics", json=simple("sales.other_ds", *BASE, dataset="orders2"), headers=bearer(team.editor)), 201)

    no_reason = await client.post("/v1/metrics", json={**simple("sales.kept", *BASE), "allow_duplicate": True}, headers=bearer(team.editor))
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "DUPLICATE_REASON_REQUIRED"
    allowed = {**simple("sales.kept", *BASE), "allow_duplicate": True, "duplicate_reason": "finance pack keeps its own key"}
    created = await ok(await client.post("/v1/metrics", json=allowed, headers=bearer(team.editor)), 201)
    assert "allow_duplicate" not in created["definition"]

    # A change that makes a metric equivalent is caught too.
    changed = await client.patch("/v1/metrics/sales.diff0", json={"filter": BASE[1]}, headers={**bearer(team.editor), "If-Match": '"1"'})
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "DUPLICATE_METRIC"

    groups = await ok(await client.get("/v1/metrics/duplicates", headers=bearer(team.editor)))
    assert [g["metrics"] for g in groups["items"]] == [["sales.base", "sales.kept", "sales.noted"]]
