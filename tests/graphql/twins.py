"""Comparing a REST read with its GraphQL twin for every principal: the same data, or the same error code and details."""

from __future__ import annotations

from typing import Any

import httpx

from tests.graphql.gql import MAP_FIELDS, codes, gql, same_instant, snake
from tests.helpers import bearer

# Every REST operation (by operationId) has a GraphQL twin calling the same service command ...
TWINS = {
    "listDatasets": "datasets", "getDataset": "dataset", "listDatasetVersions": "datasetVersions", "diffDataset": "datasetDiff",
    "createDataset": "createDataset", "patchDataset": "updateDataset", "getDatasetLifecycle": "datasetLifecycle",
    "getDatasetLineage": "datasetLineage", "getDatasetImpact": "datasetImpact", "submitDataset": "submitDataset",
    "deprecateDataset": "deprecateDataset", "retireDataset": "retireDataset",
    "listMetrics": "metrics", "getMetric": "metric", "listMetricVersions": "metricVersions", "diffMetric": "metricDiff",
    "createMetric": "createMetric", "patchMetric": "updateMetric", "getMetricLifecycle": "metricLifecycle",
    "getMetricLineage": "metricLineage", "getMetricImpact": "metricImpact", "submitMetric": "submitMetric",
    "deprecateMetric": "deprecateMetric", "retireMetric": "retireMetric", "listDuplicateMetrics": "duplicates",
    "getMetricChecks": "metricChecks", "listMetricReviews": "metricReviews", "recordMetricReview": "recordMetricReview",
    "listTargets": "targets", "getTarget": "target", "listTargetVersions": "targetVersions", "diffTarget": "targetDiff",
    "setTargets": "setTargets",
    "listScorecards": "scorecards", "getScorecard": "scorecard", "listScorecardVersions": "scorecardVersions",
    "diffScorecard": "scorecardDiff", "createScorecard": "createScorecard", "patchScorecard": "updateScorecard",
    "evaluateScorecard": "evaluateScorecard", "listOverdueReviews": "overdueReviews",
    "listProposals": "proposals", "getProposal": "proposal", "acceptProposal": "acceptProposal", "rejectProposal": "rejectProposal",
    "listChanges": "changes",
    "listDomains": "domains", "createDomain": "createDomain", "getDomainPolicy": "domainPolicy", "setDomainPolicy": "setDomainPolicy",
    "getDomainChecks": "domainChecks",
    "listPrincipals": "principals", "listSources": "sources", "getSource": "source",
    "listAuditEvents": "auditEvents", "verifyAuditChain": "auditVerification", "getAuditHead": "auditHead",
    "resolveQuery": "resolve", "compileQuery": "compile",
}
# ... or is REST-only, for a reason.
SECRET = "answers a secret shown once (an API key); secrets stay on one transport, its REST route"
REST_ONLY = {
    "getLiveness": "an operations probe for load balancers, not part of the API",
    "getReadiness": "an operations probe for load balancers, not part of the API",
    "getPrometheusMetrics": "Prometheus scrapes text, not GraphQL",
    "applyBatch": "definitions as code: the CLI applies files as one all-or-nothing batch with a dry run (yardstick apply)",
    "createPrincipal": SECRET,
    "createPrincipalKey": SECRET,
    "setPrincipalRoles": "access administration stays with the routes that issue keys (it also resets the caller cache)",
    "revokeKey": "access administration stays with the routes that issue keys (it also resets the caller cache)",
    "createSource": "takes a connection URL with credentials, write-only; secrets stay on one transport",
    "createWebhook": "takes an HMAC secret, write-only; webhook administration is one REST resource",
    "listWebhooks": "webhook administration is one REST resource with the route that takes its secret",
    "deleteWebhook": "webhook administration is one REST resource with the route that takes its secret",
    "listWebhookDeliveries": "webhook administration is one REST resource with the route that takes its secret",
}

ENTITY = "key status version latestVersion author changeNote createdAt contentHash definition domain { name }"


def rest_view(value: Any) -> Any:
    """REST's answer without what GraphQL shows elsewhere (an entity's `kind` is its GraphQL type)."""
    if isinstance(value, list):
        return [rest_view(v) for v in value]
    if isinstance(value, dict):
        return {k: rest_view(v) for k, v in value.items() if not (k == "kind" and "content_hash" in value)}
    return value


def gql_view(value: Any) -> Any:
    """GraphQL's (snake-cased) answer in REST's terms: an entity's domain by name, a map's entries as an object."""
    if isinstance(value, list):
        return [gql_view(v) for v in value]
    if isinstance(value, dict):
        return {k: (v["name"] if k == "domain" and isinstance(v, dict) else
                    {e["key"]: e["value"] for e in v} if k in MAP_FIELDS and isinstance(v, list) else gql_view(v))
                for k, v in value.items()}
    return value


async def compare(client: httpx.AsyncClient, keys: dict[str, str | None], twins: list[tuple[str, str, str]],
                  plain_lists: frozenset[str] = frozenset()) -> dict[str, int]:
    """Every (REST path, GraphQL selection, answered field) for every principal; fails listing each difference."""
    failures, outcomes = [], {"data": 0, "refused": 0}
    for path, selection, field in twins:
        for role, key in keys.items():
            rest = await client.get(path, headers=bearer(key) if key else {})
            body = await gql(client, key, f"{{ {selection} }}")
            if rest.status_code == 200:
                outcomes["data"] += 1
                got = same_instant(gql_view(snake((body.get("data") or {}).get(field))))
                expected = rest.json()["items"] if field in plain_lists else rest.json()
                if body.get("errors") or got != same_instant(rest_view(expected)):
                    failures.append((path, role, "data differs", body.get("errors"), str(expected)[:400], str(got)[:400]))
            else:
                outcomes["refused"] += 1
                expected = rest.json()["error"]
                got_errors = body.get("errors") or [{}]
                if codes(body) != [expected["code"]] or got_errors[0].get("extensions", {}).get("details") != expected["details"]:
                    failures.append((path, role, rest.status_code, expected, got_errors))
    assert not failures, "\n".join(map(str, failures))
    return outcomes
