"""Hostile documents are refused with a clear, coded error and never a 500, after work bounded by
the document as written, never by its expansion: depth, aliases (also hidden in fragments),
circular fragments, fragment bombs, size, batching. How long a refusal takes is measured in bench/."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql.language.lexer import Lexer

from app.api.graphql.limits import _Walker
from app.api.graphql.schema import MAX_TOKENS
from tests.graphql.gql import codes, post
from tests.helpers import bearer

LIMIT_CODES = {"QUERY_TOO_DEEP", "TOO_MANY_ALIASES", "FRAGMENT_CYCLE", "QUERY_TOO_LARGE"}


@dataclass
class Work:
    tokens: int = 0  # tokens the GraphQL lexer read
    walked: int = 0  # selection sets the document limiter measured
    validations: int = 0  # full validations of a document against the schema


@pytest.fixture
def work(monkeypatch) -> Work:
    """Counts the work a request costs, by wrapping the lexer, the limiter's walk and validation."""
    counted = Work()

    def counting(name: str, fn):
        def wrapper(*args, **kwargs):
            setattr(counted, name, getattr(counted, name) + 1)
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(Lexer, "read_next_token", counting("tokens", Lexer.read_next_token))
    monkeypatch.setattr(_Walker, "selections", counting("walked", _Walker.selections))
    monkeypatch.setattr(strawberry_schema, "validate", counting("validations", strawberry_schema.validate))
    return counted


def nested(depth: int) -> str:
    return "{ " + "metrics { " * depth + "key" + " }" * depth + " }"


def aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: domains {{ name }}" for i in range(n)) + " }"


def hidden_aliases(levels: int) -> str:
    """Four aliases in one fragment, spread twice per level: 4 * 2**levels aliases in all."""
    frags = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    frags.append(f"fragment F{levels} on Query {{ a: domains {{ name }} b: domains {{ name }} c: domains {{ name }} d: domains {{ name }} }}")
    return "query { ...F0 } " + " ".join(frags)


def fragment_bomb(levels: int) -> str:
    """No alias at all, but 2**levels fields once expanded: strawberry's own limiters take minutes on it."""
    frags = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    frags.append(f"fragment F{levels} on Query {{ domains {{ name }} }}")
    return "query { ...F0 } " + " ".join(frags)


REFUSED = [
    ("50 levels deep", nested(50), {"QUERY_TOO_DEEP"}),
    ("11 levels deep", nested(11), {"QUERY_TOO_DEEP"}),
    ("1,000 aliases", aliases(1000), {"GRAPHQL_PARSE_FAILED", "TOO_MANY_ALIASES"}),
    ("31 aliases", aliases(31), {"TOO_MANY_ALIASES"}),
    ("aliases hidden in fragments", hidden_aliases(3), {"TOO_MANY_ALIASES"}),
    ("circular fragments", "query { ...A } fragment A on Query { domains { name } ...B } fragment B on Query { ...A }", {"FRAGMENT_CYCLE"}),
    ("a fragment spreading itself", "query { ...A } fragment A on Query { domains { name } ...A }", {"FRAGMENT_CYCLE"}),
    ("fragment bomb", fragment_bomb(60), {"QUERY_TOO_LARGE"}),
    ("2,000 tokens", "{ " + "domains { name } " * 600 + "}", {"GRAPHQL_PARSE_FAILED"}),
    ("braces 600 deep", "{ metrics " * 600 + "}" * 600, {"GRAPHQL_PARSE_FAILED", "QUERY_TOO_DEEP"}),
    ("unknown fragment", "query { ...Missing }", {"GRAPHQL_VALIDATION_FAILED"}),
    ("unknown field", "{ nope }", {"GRAPHQL_VALIDATION_FAILED"}),
    ("syntax error", "{ metrics { ", {"GRAPHQL_PARSE_FAILED"}),
]


@pytest.mark.parametrize(("name", "document", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_hostile_document_is_refused_cheaply(client, admin_key, work, name, document, expected):
    response = await post(client, admin_key, document)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None
    assert set(codes(body)) <= expected and codes(body), body
    assert all(e["message"] and "Traceback" not in e["message"] for e in body["errors"])
    # The work is bounded by the document as written: the lexer stops at the token limit, the
    # limiter measures each selection set once (a fragment bomb's 2**60 fields are never
    # expanded), and only a document within the limits is validated.
    (code,) = set(codes(body))
    assert work.tokens <= MAX_TOKENS + 1, work
    assert work.walked <= document.count("{"), work
    if code == "GRAPHQL_PARSE_FAILED":
        assert work.walked == 0 and work.validations == 0, work
    elif code in LIMIT_CODES:
        assert work.validations == 0, work
    else:
        assert work.validations == 1, work


async def test_within_limits_is_answered(client, admin_key):
    body = (await post(client, admin_key, hidden_aliases(2) + " ")).json()  # 16 aliases
    assert body.get("errors") is None and len(body["data"]["a"]) == 0


async def test_batch_of_100_operations_is_refused(client, admin_key, work):
    batch = [{"query": "{ domains { name } }"} for _ in range(100)]
    response = await client.post("/graphql", json=batch, headers=bearer(admin_key))
    assert work == Work()  # refused before any of the 100 documents is even read
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "Batching is not enabled", "extensions": {"code": "BAD_REQUEST"}}]}


async def test_bad_requests_are_coded_not_500(client, admin_key):
    not_json = await client.post("/graphql", content=b"{", headers={**bearer(admin_key), "content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    for scalar in (b'"x"', b"1", b"null"):
        odd = await client.post("/graphql", content=scalar, headers={**bearer(admin_key), "content-type": "application/json"})
        assert odd.status_code == 400 and odd.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    no_query = await client.post("/graphql", json={}, headers=bearer(admin_key))
    assert no_query.status_code == 400 and no_query.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    get = await client.get("/graphql?query={domains{name}}", headers=bearer(admin_key))
    assert get.status_code in (400, 404, 405) and get.status_code != 500
