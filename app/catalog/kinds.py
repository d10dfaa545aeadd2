"""The versioned definition kinds of the catalog: how each parses its content and is answered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.catalog.schemas import DatasetOut, EntityOut, MetricOut
from app.compiler.definitions import DatasetDef, MetricDef
from app.errors import invalid_from_pydantic
from app.memo import Memo

METRIC_TYPES = frozenset({"simple", "ratio", "derived", "cumulative"})


@dataclass(frozen=True)
class Kind:
    name: str  # "dataset" | "metric" | "target" | "scorecard"
    key_field: str  # the definition field that names the entity
    adapter: TypeAdapter
    immutable: tuple[str, ...]
    out: type[EntityOut]  # the answer class, which declares the definition's model in the contract
    # Reference checks of kinds defined outside the catalog (targets, scorecards): (session, definition).
    check: Callable[[Any, Any], Awaitable[None]] | None = None

    def parse(self, data: Any) -> Any:
        """Validate a definition; a failure is a 422 pointing at the first bad field."""
        if not isinstance(data, dict):
            raise invalid_from_pydantic([{"loc": (), "type": "dict_type", "msg": "a definition is a JSON object"}])
        try:
            return self.adapter.validate_python(data)
        except ValidationError as exc:
            raise invalid_from_pydantic(exc.errors(), skip=METRIC_TYPES) from None

    def dump(self, definition: Any) -> dict[str, Any]:
        return self.adapter.dump_python(definition, mode="json")


DATASET = Kind("dataset", "name", TypeAdapter(DatasetDef), ("name", "domain"), DatasetOut)
METRIC = Kind("metric", "key", TypeAdapter(MetricDef), ("key", "domain"), MetricOut)
KINDS = {k.name: k for k in (DATASET, METRIC)}


class ParsedCache:
    """Revisions are immutable, so a parsed definition can be kept by (kind, content hash): the key is the
    content itself, so one process-wide memo is right for every registry the process serves."""

    def __init__(self, size: int = 20_000) -> None:
        self._items: Memo[tuple[str, str], Any] = Memo(size)

    def get(self, kind: Kind, content_hash: str, content: dict[str, Any]) -> Any:
        key = (kind.name, content_hash)
        found = self._items.get(key)
        return found if found is not None else self._items.put(key, kind.adapter.validate_python(content))


PARSED = ParsedCache()
