"""Comparing a REST read with its GraphQL twin for every principal: the same data, or the same error code and details."""

from __future__ import annotations

from typing import Any

import httpx

from tests.graphql.gql import MAP_FIELDS, codes, gql, same_instant, snake
from tests.helpers import bearer

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
