"""GraphQL types derived from the services' pydantic models, so the schema is never a hand-kept copy.

Every field of the model becomes a field of the type (strawberry's pydantic integration); the
annotations GraphQL cannot express are mapped one way everywhere:

- `Literal[...]` is a String; the allowed values are added to the field's description;
- `X | None` is nullable, `list[X]` a list, a nested model its own derived type (named after the
  model with `Out` dropped, `Page[MetricOut]` → MetricPage, unless derived earlier under a name);
- `dict[K, V]` (a map of typed values) answers as a list of `{key, value}` entries (IntEntry,
  JSONEntry); an input takes a map as a JSON object, as the REST body does;
- `Any`, a union of different scalars (a filter or scope value) and a free-form object
  (`dict[str, Any]`: a definition document, as REST answers `definition`) are JSON.

Inputs (`input=True`) make every field with a default optional and keep dates and times as ISO
strings: they are validated by the model REST validates with (`inputs.validated`), so both
transports refuse the same input with the same codes and pointers. Resolvers answer the pydantic
objects themselves (a derived type accepts an instance of its model).
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel
from strawberry.experimental import pydantic as strawberry_pydantic
from strawberry.scalars import JSON

SCALARS = (str, int, float, bool, dt.date, dt.datetime)
_entries: dict[Any, type] = {}


def type_name(model: type[BaseModel], *, input: bool = False) -> str:
    """The GraphQL name of a model's type: a registered one keeps its name."""
    found = model.__dict__.get("_strawberry_input_type" if input else "_strawberry_type")
    if found is not None:
        return found.__strawberry_definition__.name
    meta = model.__pydantic_generic_metadata__
    if meta["origin"] is not None:
        return "".join(type_name(a) for a in meta["args"]) + meta["origin"].__name__
    return model.__name__.removesuffix("In") + "Input" if input else model.__name__.removesuffix("Out")


def derive(model: type[BaseModel], *, name: str | None = None, input: bool = False, description: str | None = None) -> Any:
    """The derived type of `model`: the one registered for it, or a new one (named by `type_name`)."""
    found = model.__dict__.get("_strawberry_input_type" if input else "_strawberry_type")
    if found is not None:
        return found
    return derived(model, name=name, input=input, description=description)(types.new_class(name or type_name(model, input=input)))


def derived(
    model: type[BaseModel], *, name: str | None = None, input: bool = False, interface: bool = False,
    hide: tuple[str, ...] = (), description: str | None = None,
) -> Callable[[type], Any]:
    """Decorator: the class body may add resolver fields or override fields; its bases give
    interfaces; `hide` leaves model fields out (a subclass of a derived type inherits that)."""

    def wrap(cls: type) -> Any:
        own = set(cls.__dict__.get("__annotations__", {})) | {k for k in cls.__dict__ if not k.startswith("__")}
        hidden = {*hide, *getattr(cls, "_hidden", ())}
        annotations = dict(cls.__dict__.get("__annotations__", {}))
        literal_notes: dict[str, str] = {}
        for field, info in model.model_fields.items():
            if field in own | hidden | _resolver_fields(cls):
                continue
            annotation = graphql_annotation(info.annotation, is_input=input)
            if not input and get_origin(info.annotation) is dict and annotation is not JSON:  # a typed map: its entries
                setattr(cls, field, strawberry.field(resolver=_map_resolver(field, annotation), description=info.description))
            annotations[field] = annotation | None if input and not info.is_required() else annotation
            if values := _literal_values(info.annotation):
                literal_notes[field] = _with_values(info.description, values)
        cls.__annotations__ = annotations
        made = strawberry_pydantic.type(
            model=model, name=name or type_name(model, input=input), is_input=input, is_interface=interface,
            description=description or model.__doc__ or (model.__pydantic_generic_metadata__["origin"] or model).__doc__,
        )(cls)
        for field in made.__strawberry_definition__.fields:
            if field.python_name in literal_notes:
                field.description = literal_notes[field.python_name]
        made._hidden = tuple(hidden)
        return made

    return wrap


def graphql_annotation(annotation: Any, *, is_input: bool = False) -> Any:
    """The strawberry annotation for a pydantic field annotation (see the module docstring)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return graphql_annotation(args[0], is_input=is_input)
    if annotation is Any:
        return JSON | None
    if origin is Literal:
        return str
    if origin in (Union, types.UnionType):
        arms = [graphql_annotation(a, is_input=is_input) for a in args if a is not type(None)]
        one = arms[0] if all(a == arms[0] for a in arms) else JSON
        return one | None if type(None) in args else one
    if origin is list:
        return list[graphql_annotation(args[0], is_input=is_input)]
    if origin is dict:
        return JSON if is_input or args[1] is Any else list[_entry(graphql_annotation(args[1]))]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return derive(annotation, input=is_input)
    if is_input and annotation in (dt.date, dt.datetime):
        return str
    if annotation in SCALARS:
        return annotation
    raise TypeError(f"no GraphQL mapping for {annotation!r}")


def _entry(value: Any) -> type:
    """The `{key, value}` type of a map whose values have the GraphQL type `value`."""
    if value not in _entries:
        base = value.__args__[0] if isinstance(value, types.UnionType) else value
        name = {str: "String", int: "Int", float: "Float", bool: "Boolean"}.get(base, "JSON") + "Entry"
        cls = types.new_class(name, (), {}, lambda ns: ns.update({"__annotations__": {"key": str, "value": value}}))
        _entries[value] = strawberry.type(cls, description="one entry of a map: its key and its value")
    return _entries[value]


def _map_resolver(name: str, annotation: Any) -> Callable[[Any], Any]:
    entry = get_args(annotation)[0]

    def resolve(root: Any) -> annotation:  # type: ignore[valid-type]
        return [entry(key=k, value=v) for k, v in getattr(root, name).items()]

    return resolve


def _literal_values(annotation: Any) -> list[str]:
    """The values of a field that is a Literal (or an optional one, or a list of one)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return [str(a) for a in args]
    if origin is Annotated or origin is list:
        return _literal_values(args[0])
    if origin in (Union, types.UnionType) and len(arms := [a for a in args if a is not type(None)]) == 1:
        return _literal_values(arms[0])
    return []


def _with_values(description: str | None, values: list[str]) -> str:
    allowed = " | ".join(values)
    if not description:
        return allowed
    return description if all(v in description for v in values) else f"{description} ({allowed})"


def _resolver_fields(cls: type) -> set[str]:
    """Fields a base type answers with a resolver of its own (e.g. an entity's `domain` as a Domain)."""
    names: set[str] = set()
    for base in cls.__mro__[1:]:
        definition = base.__dict__.get("__strawberry_definition__")
        if definition is not None:
            names |= {f.python_name for f in definition.fields if f.base_resolver is not None}
    return names
