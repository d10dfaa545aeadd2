"""The versioned definition kinds of the catalog and how each parses its content."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.compiler.definitions import DatasetDef, MetricDef
from app.errors import invalid_from_pydantic

METRIC_TYPES = frozenset({"simple", "ratio", "derived", "cumulative"})


@dataclass(frozen=True)
class Kind:
    name: str  # "dataset" | "metric" | "target" | "scorecard"
    key_field: str  # the definition field that names the entity
    adapter: TypeAdapter
    immutable: tuple[str, ...]
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


DATASET = Kind("dataset", "name", TypeAdapter(DatasetDef), ("name", "domain"))
METRIC = Kind("metric", "key", TypeAdapter(MetricDef), ("key", "domain"))
KINDS = {k.name: k for k in (DATASET, METRIC)}


class ParsedCache:
    """Revisions are immutable, so a parsed definition can be kept by (kind, content hash)."""

    def __init__(self, size: int = 20_000) -> None:
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._size = size

    def get(self, kind: Kind, content_hash: str, content: dict[str, Any]) -> Any:
        key = (kind.name, content_hash)
        found = self._items.get(key)
        if found is None:
            found = kind.adapter.validate_python(content)
            self._items[key] = found
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return found


PARSED = ParsedCache()
