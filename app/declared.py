"""A JSON object passed through as it is, declared in the contract as the typed model it is.

Definitions are validated by their kind (`Kind.parse`: the same errors and pointers on every
path) and stored as their canonical dump, so bodies and answers carry them as plain dicts;
`Annotated[dict[str, Any], declared_as(MetricDef)]` makes the OpenAPI document say what those
dicts are. The app generates one schema per model in validation mode
(`separate_input_output_schemas=False`), so the declaration holds for answers too.
"""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator


def _unchanged(value: Any) -> Any:
    return value


def declared_as(model: Any) -> BeforeValidator:
    """Annotated metadata: the JSON schema of `model`, the validation of the annotated type."""
    return BeforeValidator(_unchanged, json_schema_input_type=model)
