"""The committed contract files match what the code generates, and the OpenAPI document keeps its rules."""

from __future__ import annotations

import json
import re

import pytest

from app.contracts import OPENAPI, rendered


@pytest.mark.no_registry
def test_contract_files_have_not_drifted():
    for path, text in rendered().items():
        assert path.exists(), f"{path.name} missing: run `make openapi`"
        assert path.read_text() == text, f"{path.name} drifted from the code: run `make openapi`"


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


@pytest.fixture(scope="module")
def document():
    return json.loads(OPENAPI.read_text())


@pytest.mark.no_registry
def test_operation_ids_follow_one_rule(document):
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i)] == []
    assert {"listMetrics", "patchMetric", "createMetric", "getMetric", "listDatasetVersions", "resolveQuery"} <= set(ids)


@pytest.mark.no_registry
def test_schema_names_are_unique_and_short(document):
    names = document["components"]["schemas"]
    assert [n for n in names if "__" in n or n.endswith(("-Input", "-Output"))] == []


@pytest.mark.no_registry
def test_every_error_answer_is_the_shared_envelope(document):
    envelope = {"$ref": "#/components/schemas/ErrorResponse"}
    inline = [(m, p, s) for m, p, op in _operations(document) for s, r in op["responses"].items()
              if int(s) >= 400 and r["content"]["application/json"]["schema"] != envelope]
    assert inline == []
    assert document["components"]["schemas"]["ErrorDetail"]["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}


@pytest.mark.no_registry
def test_lists_are_typed_pages(document):
    schemas = document["components"]["schemas"]
    pages = {}
    for method, path, op in _operations(document):
        ok = op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        name = ok.get("$ref", "").rsplit("/", 1)[-1]
        if name.startswith("Page_"):
            pages[path] = schemas[name]["properties"]["items"]["items"]
    assert len(pages) == 17 and all("$ref" in items for items in pages.values())
    assert pages["/v1/metrics"] == {"$ref": "#/components/schemas/MetricOut"}


@pytest.mark.no_registry
def test_definitions_are_typed_unions(document):
    schemas = document["components"]["schemas"]
    for name in ("MetricOut", "ProposalOut", "BatchItem"):
        definition = schemas[name]["properties"]["definition"]
        assert definition.get("type") != "object" and ("oneOf" in definition or "anyOf" in definition or "$ref" in definition), name
    assert schemas["MetricOut"]["properties"]["definition"]["discriminator"]["propertyName"] == "type"
    create = document["paths"]["/v1/metrics"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["discriminator"]["propertyName"] == "type" and len(create["oneOf"]) == 4


@pytest.mark.no_registry
def test_middleware_and_preconditions_are_declared(document):
    for method, path, op in _operations(document):
        names = [p.get("name") or p.get("$ref") for p in op.get("parameters", [])]
        if "requestBody" in op:
            assert {"400", "413"} <= set(op["responses"]), (method, path)
        if method == "post":
            assert "#/components/parameters/IdempotencyKey" in names, (method, path)
        if "428" in op["responses"]:
            assert any(p.get("name") == "If-Match" and p["required"] for p in op["parameters"]), (method, path)
    patch = document["paths"]["/v1/metrics/{key}"]["patch"]["responses"]
    assert patch["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ProposalOut"}
    assert patch["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MetricOut"}
