"""The GraphQL schema is derived from the services' pydantic models, not kept by hand beside them,
and answers typed objects: JSON only where the value is free-form by nature."""

from __future__ import annotations

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLScalarType, get_named_type

from app.api.graphql.schema import schema
from tests.graphql.gql import SCHEMA

pytestmark = pytest.mark.no_registry

# Object types that answer no service model, each with its reason.
NOT_DERIVED = {
    "Query": "the root of reads",
    "Mutation": "the root of writes",
    "StaleVersionError": "a typed result for REST's 412 STALE_VERSION error envelope",
    "IntEntry": "one entry of a map (GraphQL has no map type)",
    "JSONEntry": "one entry of a map (GraphQL has no map type)",
}
# Fields that answer JSON: values that are free-form by nature.
JSON_FIELDS = {
    "Dataset.definition", "Metric.definition", "Target.definition", "Scorecard.definition",
    "Proposal.definition",  # a definition document, as REST answers it and PATCH merges into it
    "Change.before", "Change.after", "AuditEvent.before", "AuditEvent.after",  # any field's value, or a recorded document
    "QueryResult.rows", "CompiledSql.params",  # cell and parameter values of any column type
    "JSONEntry.value",  # a scope value: a string, a number or a boolean
}


def _types(kind: type) -> dict[str, object]:
    return {n: t for n, t in SCHEMA.type_map.items() if isinstance(t, kind) and not n.startswith("__")}


def test_every_type_is_derived_from_a_service_model():
    types = {**_types(GraphQLObjectType), **_types(GraphQLInputObjectType)}
    hand_kept = sorted(n for n in types if n not in NOT_DERIVED and not hasattr(schema.get_type_by_name(n).origin, "_pydantic_type"))
    assert hand_kept == []
    assert {"Evaluation", "EvaluationNode", "MetricChecks", "DomainChecks", "Lineage", "Impact", "Proposal", "QueryInput"} <= types.keys()


def test_derived_types_answer_every_field_of_their_model():
    missing = []
    for name in _types(GraphQLObjectType).keys() | _types(GraphQLInputObjectType).keys():
        origin = schema.get_type_by_name(name).origin
        model = getattr(origin, "_pydantic_type", None)
        if model is None:
            continue
        graphql = {f.python_name for f in schema.get_type_by_name(name).fields}
        missing += [f"{name}.{f}" for f in model.model_fields if f not in graphql and f not in origin._hidden]
    assert missing == []


def test_json_only_where_the_value_is_free_form():
    found = {f"{type_name}.{field}" for type_name, t in _types(GraphQLObjectType).items() for field, f in t.fields.items()
             if isinstance(get_named_type(f.type), GraphQLScalarType) and get_named_type(f.type).name == "JSON"}
    assert found == JSON_FIELDS


def test_no_root_field_answers_json():
    roots = [(root, name) for root in ("Query", "Mutation") for name, f in SCHEMA.get_type(root).fields.items()
             if get_named_type(f.type).name == "JSON"]
    assert roots == []
