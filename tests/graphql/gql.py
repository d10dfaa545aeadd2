"""Posting GraphQL documents in tests."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from graphql import GraphQLObjectType, GraphQLUnionType, Undefined, get_named_type, is_leaf_type, is_non_null_type

from app.api.graphql.schema import schema
from tests.helpers import bearer

SCHEMA = schema._schema


async def post(client: httpx.AsyncClient, key: str | None, query: str, variables: dict | None = None) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(key) if key else {})


async def gql(client: httpx.AsyncClient, key: str | None, query: str, variables: dict | None = None) -> dict[str, Any]:
    """The whole answer (data and errors) of a document that must reach execution."""
    response = await post(client, key, query, variables)
    assert response.status_code == 200, response.text
    return response.json()


async def data(client: httpx.AsyncClient, key: str | None, query: str, variables: dict | None = None) -> dict[str, Any]:
    body = await gql(client, key, query, variables)
    assert not body.get("errors"), body["errors"]
    return body["data"]


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def snake(value: Any) -> Any:
    """camelCase keys to REST's snake_case, recursively."""
    if isinstance(value, list):
        return [snake(v) for v in value]
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): snake(v) for k, v in value.items()}
    return value


def same_instant(value: Any) -> Any:
    """ISO timestamps as datetimes, so REST's `…Z` and GraphQL's `…+00:00` compare equal."""
    if isinstance(value, list):
        return [same_instant(v) for v in value]
    if isinstance(value, dict):
        return {k: same_instant(v) for k, v in value.items()}
    if isinstance(value, str) and ISO.match(value):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def selection(type_name: str) -> str:
    """Every field of a GraphQL type, nested types and union members included (fields with required
    arguments left out): a selection that asks a typed answer for all it has."""
    parts = []
    for name, field in SCHEMA.get_type(type_name).fields.items():
        if any(is_non_null_type(arg.type) and arg.default_value is Undefined for arg in field.args.values()):
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        elif isinstance(named, GraphQLUnionType):
            members = " ".join(f"... on {m.name} {{ {selection(m.name)} }}" for m in named.types)
            parts.append(f"{name} {{ __typename {members} }}")
        else:
            parts.append(f"{name} {{ {selection(named.name)} }}")
    return " ".join(parts)


def _is_entries(named: object) -> bool:
    return isinstance(named, GraphQLObjectType) and set(named.fields) == {"key", "value"}


MAP_FIELDS = frozenset(
    snake(name) for t in SCHEMA.type_map.values() if isinstance(t, GraphQLObjectType) and not t.name.startswith("__")
    for name, f in t.fields.items() if _is_entries(get_named_type(f.type))
)
