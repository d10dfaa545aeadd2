"""Every REST operation of the live app has a GraphQL twin (a field calling the same service command)
or is listed as REST-only with its reason; every GraphQL root field is some operation's twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.graphql.gql import SCHEMA
from tests.graphql.twins import REST_ONLY, TWINS

pytestmark = pytest.mark.no_registry
READS_BY_POST = {"resolveQuery", "compileQuery"}  # POST for their bodies, but they change nothing


def operations(app) -> dict[str, str]:
    """operationId → HTTP method, from the app's own OpenAPI document (so from its routes)."""
    return {op["operationId"]: method.upper() for ops in app.openapi()["paths"].values() for method, op in ops.items()}


@pytest.fixture(scope="module")
def rest():
    from app.config import Settings
    from app.main import create_app

    return operations(create_app(Settings(database_url="sqlite+aiosqlite:///var/never-opened.db")))


def test_every_rest_operation_has_a_twin_or_a_reason(rest):
    unaccounted = sorted(set(rest) - TWINS.keys() - REST_ONLY.keys())
    assert unaccounted == [], f"give these a GraphQL twin (tests/graphql/twins.py TWINS) or a reason in REST_ONLY: {unaccounted}"
    assert sorted((TWINS.keys() | REST_ONLY.keys()) - set(rest)) == []  # no stale entries
    assert TWINS.keys() & REST_ONLY.keys() == set() and all(REST_ONLY.values())


def test_each_twin_is_a_field_of_the_right_root(rest):
    misplaced = []
    for operation, field in TWINS.items():
        root = "Query" if rest[operation] == "GET" or operation in READS_BY_POST else "Mutation"
        if field not in SCHEMA.get_type(root).fields:
            misplaced.append((operation, root, field))
    assert misplaced == []


def test_every_graphql_root_field_twins_a_rest_operation():
    fields = {name for root in ("Query", "Mutation") for name in SCHEMA.get_type(root).fields}
    assert sorted(fields - set(TWINS.values())) == []
    assert len(TWINS) == len(set(TWINS.values()))


def test_the_rest_only_list_is_documented():
    text = (Path(__file__).parents[2] / "docs" / "graphql.md").read_text()
    assert [op for op in REST_ONLY if f"`{op}`" not in text] == []
