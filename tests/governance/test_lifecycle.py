"""The whole lifecycle: draft, review (four eyes), proposals, deprecation with warnings, retirement (410)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.catalog.lifecycle import EntityStatusInfo, resolution_notes
from app.errors import Gone
from tests.governance.conftest import audit_actions, set_policy
from tests.helpers import bearer, gmv_metric, ok


def metric(key: str, measure: str = "SUM(net_amount)", **extra) -> dict:
    return {**gmv_metric(key=key), "measure": measure, "filter": None, **extra}


def derived(key: str, expr: str) -> dict:
    return {"key": key, "name": key, "domain": "sales", "owner": "alice", "type": "derived", "expr": expr}


async def test_draft_submit_review_publish(client, team):
    body = {**metric("sales.net"), "status": "draft", "change_note": "first cut"}
    created = await ok(await client.post("/v1/metrics", json=body, headers=bearer(team.both)), 201)
    assert created["status"] == "draft" and "status" not in created["definition"]

    # Drafts are edited directly, even when the domain requires review.
    await set_policy(client, team.admin, review_required=True)
    edited = await ok(await client.patch("/v1/metrics/sales.net", json={"caliber": "净额"}, headers={**bearer(team.both), "If-Match": '"1"'}))
    assert edited["version"] == 2 and edited["status"] == "draft"

    proposal = await ok(await client.post("/v1/metrics/sales.net/submit", json={"change_note": "ready"}, headers=bearer(team.both)), 201)
    assert proposal["action"] == "publish" and proposal["state"] == "open"
    status = await ok(await client.get("/v1/metrics/sales.net/lifecycle", headers=bearer(team.editor)))
    assert status["status"] == "in_review"

    locked = await client.patch("/v1/metrics/sales.net", json={"caliber": "x"}, headers={**bearer(team.both), "If-Match": '"2"'})
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "IN_REVIEW"

    # Four eyes: the author cannot accept their own proposal even as an approver; an editor cannot at all.
    own = await client.post(f"/v1/proposals/{proposal['id']}/accept", json={"comment": "lgtm"}, headers=bearer(team.both))
    assert own.status_code == 403 and own.json()["error"]["code"] == "SELF_REVIEW"
    editor = await client.post(f"/v1/proposals/{proposal['id']}/accept", json={"comment": "lgtm"}, headers=bearer(team.editor))
    assert editor.status_code == 403
    no_comment = await client.post(f"/v1/proposals/{proposal['id']}/accept", json={}, headers=bearer(team.approver))
    assert no_comment.status_code == 422

    accepted = await ok(await client.post(f"/v1/proposals/{proposal['id']}/accept", json={"comment": "ok"}, headers=bearer(team.approver)))
    assert accepted["state"] == "accepted" and accepted["reviewer"] == "appr" and accepted["result_version"] == 2
    current = await ok(await client.get("/v1/metrics/sales.net", headers=bearer(team.editor)))
    assert current["status"] == "published" and current["version"] == 2

    again = await client.post(f"/v1/proposals/{proposal['id']}/reject", json={"comment": "late"}, headers=bearer(team.approver))
    assert again.status_code == 409 and again.json()["error"]["code"] == "PROPOSAL_CLOSED"
    assert await audit_actions(client, team.admin, "sales.net") == ["metric.create", "metric.update", "metric.propose", "metric.publish"]


async def test_review_required_turns_patch_into_a_proposal(client, team):
    # Without the policy, PATCH appends directly (the behaviour callers rely on).
    direct = await ok(await client.patch("/v1/metrics/sales.gmv", json={"caliber": "v2"}, headers={**bearer(team.editor), "If-Match": '"1"'}))
    assert direct["version"] == 2

    await set_policy(client, team.admin, review_required=True)
    response = await client.patch("/v1/metrics/sales.gmv", json={"measure": "SUM(net_amount)", "change_note": "net"},
                                  headers={**bearer(team.editor), "If-Match": '"2"'})
    assert response.status_code == 202, response.text
    proposal = response.json()
    assert response.headers["Location"] == f"/v1/proposals/{proposal['id']}"
    assert proposal["action"] == "change" and proposal["author"] == "ed" and proposal["definition"]["measure"] == "SUM(net_amount)"
    unchanged = await ok(await client.get("/v1/metrics/sales.gmv", headers=bearer(team.editor)))
    assert unchanged["version"] == 2 and unchanged["definition"]["measure"] == "SUM(amount)"

    # An unchanged PATCH is still a no-op 200, never a proposal.
    same = await client.patch("/v1/metrics/sales.gmv", json={"caliber": "v2"}, headers={**bearer(team.editor), "If-Match": '"2"'})
    assert same.status_code == 200

    rejected_one = await client.patch("/v1/metrics/sales.gmv", json={"caliber": "v3"}, headers={**bearer(team.editor2), "If-Match": '"2"'})
    assert rejected_one.status_code == 202
    rejected = await ok(await client.post(f"/v1/proposals/{rejected_one.json()['id']}/reject", json={"comment": "no"}, headers=bearer(team.approver)))
    assert rejected["state"] == "rejected"

    accepted = await ok(await client.post(f"/v1/proposals/{proposal['id']}/accept", json={"comment": "fine"}, headers=bearer(team.approver)))
    assert accepted["result_version"] == 3
    versions = await ok(await client.get("/v1/metrics/sales.gmv/versions", headers=bearer(team.editor)))
    assert versions["items"][-1]["author"] == "ed" and versions["items"][-1]["change_note"] == "net"
    log = await ok(await client.get("/v1/audit", params={"entity_key": "sales.gmv", "action": "metric.update"}, headers=bearer(team.admin)))
    last = log["items"][-1]
    assert last["actor"] == "appr" and last["after"]["approved_by"] == "appr" and last["after"]["author"] == "ed"

    listed = await ok(await client.get("/v1/proposals", params={"state": "open"}, headers=bearer(team.editor)))
    assert listed["items"] == []

    # Creating a published definition directly is refused where review is required; GraphQL-style direct updates too.
    refused = await client.post("/v1/metrics", json=metric("sales.other"), headers=bearer(team.editor))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "REVIEW_REQUIRED"


async def test_stale_proposal_and_policy_rights(client, team):
    forbidden = await client.put("/v1/domains/sales/policy", json={"review_required": True}, headers=bearer(team.approver))
    assert forbidden.status_code == 403
    unknown = await client.put("/v1/domains/nope/policy", json={"review_required": True}, headers=bearer(team.admin))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "DOMAIN_NOT_FOUND"
    await set_policy(client, team.admin, review_required=True)
    first = (await client.patch("/v1/metrics/sales.gmv", json={"caliber": "a"}, headers={**bearer(team.editor), "If-Match": '"1"'})).json()
    second = (await client.patch("/v1/metrics/sales.gmv", json={"caliber": "b"}, headers={**bearer(team.editor), "If-Match": '"1"'})).json()
    await ok(await client.post(f"/v1/proposals/{first['id']}/accept", json={"comment": "a"}, headers=bearer(team.approver)))
    stale = await client.post(f"/v1/proposals/{second['id']}/accept", json={"comment": "b"}, headers=bearer(team.approver))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "STALE_PROPOSAL"
    missing = await client.get("/v1/proposals/999", headers=bearer(team.editor))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PROPOSAL_NOT_FOUND"


async def test_deprecate_and_retire(client, team):
    await ok(await client.post("/v1/metrics", json=metric("sales.gmv2"), headers=bearer(team.editor)), 201)
    await ok(await client.post("/v1/metrics", json=derived("sales.gmv_x2", "{sales.gmv} * 2"), headers=bearer(team.editor)), 201)
    body = {"replacement": "sales.gmv2", "sunset": "2027-01-01", "reason": "net of refunds"}
    by_editor = await client.post("/v1/metrics/sales.gmv/deprecate", json=body, headers=bearer(team.editor))
    assert by_editor.status_code == 403
    bad = await client.post("/v1/metrics/sales.gmv/deprecate", json={**body, "replacement": "sales.nope"}, headers=bearer(team.approver))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "INVALID_REPLACEMENT"
    early = await client.post("/v1/metrics/sales.gmv/retire", headers=bearer(team.approver))
    assert early.status_code == 409 and early.json()["error"]["code"] == "INVALID_TRANSITION"

    deprecated = await ok(await client.post("/v1/metrics/sales.gmv/deprecate", json=body, headers=bearer(team.approver)))
    assert deprecated == {"kind": "metric", "key": "sales.gmv", "status": "deprecated", "version": 1,
                          "replacement": "sales.gmv2", "sunset": "2027-01-01", "reason": "net of refunds"}
    # Still readable and editable while deprecated.
    await ok(await client.get("/v1/metrics/sales.gmv", headers=bearer(team.editor)))

    blocked = await client.post("/v1/metrics/sales.gmv/retire", json={"reason": "gone"}, headers=bearer(team.approver))
    assert blocked.status_code == 409 and blocked.json()["error"] == {
        "code": "HAS_DEPENDENTS", "message": blocked.json()["error"]["message"], "details": {"dependents": ["metric:sales.gmv_x2"]}}
    await ok(await client.patch("/v1/metrics/sales.gmv_x2", json={"expr": "{sales.gmv2} * 2"}, headers={**bearer(team.editor), "If-Match": '"1"'}))
    retired = await ok(await client.post("/v1/metrics/sales.gmv/retire", json={"reason": "gone"}, headers=bearer(team.approver)))
    assert retired["status"] == "retired" and retired["replacement"] == "sales.gmv2"
    frozen = await client.patch("/v1/metrics/sales.gmv", json={"caliber": "x"}, headers={**bearer(team.editor), "If-Match": '"1"'})
    assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "DEFINITION_RETIRED"
    assert await audit_actions(client, team.admin, "sales.gmv") == ["metric.create", "metric.deprecate", "metric.retire"]


def test_resolution_notes_warn_for_deprecated_and_refuse_retired():
    statuses = {
        "sales.gmv": EntityStatusInfo("sales.gmv", "deprecated", "sales.gmv2", dt.date(2027, 1, 1), "net"),
        "sales.orders": EntityStatusInfo("sales.orders", "published"),
    }
    notes = resolution_notes(statuses)
    assert [(n.code, n.metric, n.replacement, n.sunset) for n in notes] == [("METRIC_DEPRECATED", "sales.gmv", "sales.gmv2", dt.date(2027, 1, 1))]
    assert "until 2027-01-01" in notes[0].message and "sales.gmv2" in notes[0].message
    assert resolution_notes({"sales.orders": statuses["sales.orders"]}) == []
    with pytest.raises(Gone) as gone:
        resolution_notes({**statuses, "sales.old": EntityStatusInfo("sales.old", "retired", "sales.gmv2")})
    assert gone.value.status == 410 and gone.value.code == "METRIC_RETIRED" and gone.value.details["replacement"] == "sales.gmv2"
