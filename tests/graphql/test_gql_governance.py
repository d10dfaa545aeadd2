"""The governance reads (lineage and impact, duplicates, the change feed, proposals) answer over GraphQL
what REST answers the same principal, and refuse with the same codes."""

from __future__ import annotations

import pytest

from tests.graphql.gql import codes, gql, selection
from tests.graphql.twins import compare
from tests.governance.conftest import set_policy, team  # noqa: F401  (fixture)
from tests.helpers import bearer, gmv_metric, make_domain, make_principal, ok

CHANGE = "seq at actor action kind key domain version"
LINEAGE, IMPACT = f"{{ {selection('Lineage')} }}", f"{{ {selection('Impact')} }}"
PROPOSAL = ("id kind key domain action state baseVersion author changeNote definition reviewer reviewComment "
            "resultVersion createdAt reviewedAt")

COPY = {**gmv_metric(), "key": "sales.gmv_copy", "allow_duplicate": True, "duplicate_reason": "the finance pack keeps its own key"}


@pytest.fixture
async def gov_world(client, team):  # noqa: F811
    await ok(await client.post("/v1/metrics", json=COPY, headers=bearer(team.editor)), 201)
    await set_policy(client, team.admin, review_required=True)
    await ok(await client.patch("/v1/metrics/sales.gmv", json={"measure": "SUM(net_amount)", "change_note": "net"},
                                headers={**bearer(team.editor), "If-Match": '"1"'}), 202)
    await make_domain(client, team.admin, "service")
    outsider = await make_principal(client, team.admin, "outsider", [{"role": "editor", "domain": "service"}])
    principals = {"anonymous": None, "admin": team.admin, "editor": team.editor, "approver": team.approver, "outsider": outsider}
    proposal = (await ok(await client.get("/v1/proposals", headers=bearer(team.admin))))["items"][0]["id"]
    return principals, proposal


async def test_governance_reads_answer_as_rest(client, gov_world):
    principals, proposal = gov_world
    twins = [
        ("/v1/metrics/sales.gmv/lineage", f'metricLineage(key: "sales.gmv") {LINEAGE}', "metricLineage"),
        ("/v1/metrics/sales.nope/lineage", f'metricLineage(key: "sales.nope") {LINEAGE}', "metricLineage"),
        ("/v1/datasets/orders/lineage", f'datasetLineage(key: "orders") {LINEAGE}', "datasetLineage"),
        ("/v1/metrics/sales.gmv/impact", f'metricImpact(key: "sales.gmv") {IMPACT}', "metricImpact"),
        ("/v1/datasets/customers/impact", f'datasetImpact(key: "customers") {IMPACT}', "datasetImpact"),
        ("/v1/datasets/nope/impact", f'datasetImpact(key: "nope") {IMPACT}', "datasetImpact"),
        ("/v1/metrics/duplicates", "duplicates { fingerprint metrics }", "duplicates"),
        ("/v1/changes", f"changes {{ items {{ {CHANGE} }} nextCursor cursor }}", "changes"),
        ("/v1/changes?after=2&limit=2", f"changes(after: 2, limit: 2) {{ items {{ {CHANGE} }} nextCursor cursor }}", "changes"),
        ("/v1/proposals", f"proposals {{ items {{ {PROPOSAL} }} nextCursor }}", "proposals"),
        ("/v1/proposals?state=open&domain=sales&limit=1", f'proposals(state: "open", domain: "sales", limit: 1) {{ items {{ {PROPOSAL} }} nextCursor }}', "proposals"),
        ("/v1/proposals?state=accepted", f'proposals(state: "accepted") {{ items {{ {PROPOSAL} }} nextCursor }}', "proposals"),
        (f"/v1/proposals/{proposal}", f"proposal(id: {proposal}) {{ {PROPOSAL} }}", "proposal"),
        ("/v1/proposals/999", "proposal(id: 999) { id }", "proposal"),
    ]
    outcomes = await compare(client, principals, twins, plain_lists=frozenset({"duplicates"}))
    assert outcomes["data"] > 30 and outcomes["refused"] > 15, outcomes


async def test_governance_reads_answer_something(client, gov_world):
    """The parity above is not parity of empty answers."""
    principals, proposal = gov_world
    body = await gql(client, principals["approver"], f'{{ duplicates {{ metrics }} changes {{ items {{ key }} }} '
                                                     f'proposal(id: {proposal}) {{ state key }} metricImpact(key: "sales.gmv") {{ root }} '
                                                     f'datasetLineage(key: "orders") {{ nodes {{ id }} }} }}')
    assert not body.get("errors"), body
    answer = body["data"]
    assert answer["duplicates"] == [{"metrics": ["sales.gmv", "sales.gmv_copy"]}]
    assert {"orders", "sales.gmv"} <= {c["key"] for c in answer["changes"]["items"]}
    assert answer["proposal"] == {"state": "open", "key": "sales.gmv"}
    assert answer["datasetLineage"]["nodes"] and answer["metricImpact"]["root"] == "metric:sales.gmv"


async def test_governance_refusals_use_the_rest_codes(client, gov_world):
    principals, proposal = gov_world
    for field in ('metricLineage(key: "sales.gmv") { root }', 'datasetImpact(key: "orders") { root }', f"proposal(id: {proposal}) {{ id }}"):
        assert codes(await gql(client, principals["outsider"], f"{{ {field} }}")) == ["FORBIDDEN"], field
        assert codes(await gql(client, None, f"{{ {field} }}")) == ["UNAUTHENTICATED"], field
    for field, pointer in (("changes(after: -1) { cursor }", "/after"), ("changes(limit: 501) { cursor }", "/limit"),
                               ('proposals(state: "maybe") { nextCursor }', "/state")):
        body = await gql(client, principals["admin"], f"{{ {field} }}")
        assert codes(body) == ["INVALID_FIELD"] and body["errors"][0]["extensions"]["details"]["pointer"] == pointer, body
