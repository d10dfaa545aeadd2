"""Refuse over-deep, over-aliased or fragment-exploding documents before validation, in one linear pass.

Each fragment is measured once (memoised), so a fragment spread twice per level cannot grow the
work exponentially: strawberry's QueryDepthLimiter and MaxAliasesLimiter re-walk every spread and
take seconds on such a document, and the former fails with a KeyError on an unknown fragment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

MAX_DEPTH = 10  # nested field levels; introspection (`__…`) fields are not counted
MAX_ALIASES = 30  # aliased fields, counting each time a fragment is spread
MAX_FIELDS = 500  # fields once every fragment spread is expanded


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    fields: int = 0


class _Walker:
    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.measured: dict[str, Measure] = {}
        self.open: set[str] = set()

    def selections(self, node: SelectionSetNode) -> Measure:
        depth = aliases = fields = 0
        for sel in node.selections:
            if isinstance(sel, FieldNode):
                if sel.name.value.startswith("__"):
                    continue
                inner = self.selections(sel.selection_set) if sel.selection_set else Measure()
                depth, aliases, fields = max(depth, inner.depth + 1), aliases + inner.aliases + bool(sel.alias), fields + inner.fields + 1
            else:
                inner = self.selections(sel.selection_set) if isinstance(sel, InlineFragmentNode) else self.fragment(sel)
                depth, aliases, fields = max(depth, inner.depth), aliases + inner.aliases, fields + inner.fields
            self.check(Measure(depth, aliases, fields))
        return Measure(depth, aliases, fields)

    def fragment(self, spread: FragmentSpreadNode) -> Measure:
        name = spread.name.value
        if name in self.measured:
            return self.measured[name]
        if name in self.open:
            raise Refused("FRAGMENT_CYCLE", f"fragment '{name}' spreads itself")
        definition = self.fragments.get(name)
        if definition is None:
            return Measure()  # an unknown fragment is named by validation
        self.open.add(name)
        self.measured[name] = self.selections(definition.selection_set)
        self.open.discard(name)
        return self.measured[name]

    @staticmethod
    def check(m: Measure) -> None:
        if m.depth > MAX_DEPTH:
            raise Refused("QUERY_TOO_DEEP", f"the query nests fields more than {MAX_DEPTH} levels deep")
        if m.aliases > MAX_ALIASES:
            raise Refused("TOO_MANY_ALIASES", f"the query uses more than {MAX_ALIASES} aliases (fragments counted per spread)")
        if m.fields > MAX_FIELDS:
            raise Refused("QUERY_TOO_LARGE", f"the query selects more than {MAX_FIELDS} fields once fragments are expanded")


def check_document(document: DocumentNode) -> None:
    """Raise Refused when any operation of the document goes over a limit."""
    walker = _Walker(document)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walker.selections(definition.selection_set)


class DocumentLimits(SchemaExtension):
    """Runs before validation; a refused document is answered without validating or executing it."""

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            try:
                check_document(document)
            except Refused as exc:
                self.execution_context.pre_execution_errors = [GraphQLError(exc.message, extensions={"code": exc.code})]
        yield
