"""Definitions as files: one YAML file per dataset or metric, read with line numbers, written back out.

YAML 1.1 reads `on:` as true (a join's `on` map!) and `2026-01-01` as a date; the loader here
keeps only true/false as booleans and no timestamps, so a file means what it says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class DefinitionLoader(yaml.SafeLoader):
    pass


DefinitionLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DefinitionLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class FileError(ValueError):
    """A problem located in a file: rendered `file:line:column: message`."""

    def __init__(self, path: Path | str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path, self.line, self.column, self.message = str(path), line, column, message


@dataclass(frozen=True)
class DefinitionFile:
    path: Path
    kind: str  # "dataset" | "metric"
    data: dict[str, Any]
    node: yaml.Node

    def locate(self, pointer: str) -> tuple[int, int]:
        """Line and column (1-based) of the deepest node a JSON pointer reaches in this file."""
        node = self.node
        for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]:
            child = None
            if isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
                child = node.value[int(part)]
            if child is None:
                break
            node = child
        return node.start_mark.line + 1, node.start_mark.column + 1


def kind_of(data: dict[str, Any]) -> str | None:
    if "key" in data:
        return "metric"
    if "columns" in data or "table" in data:
        return "dataset"
    return None


def read(path: Path) -> DefinitionFile:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=DefinitionLoader)
        data = yaml.load(text, Loader=DefinitionLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise FileError(path, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1, err.problem or str(err)) from None
    except yaml.YAMLError as err:
        raise FileError(path, 1, 1, str(err)) from None
    if not isinstance(data, dict):
        raise FileError(path, 1, 1, "a definition file holds one mapping (a dataset or a metric)")
    kind = kind_of(data)
    if kind is None:
        raise FileError(path, 1, 1, "neither a metric (it has no 'key') nor a dataset (no 'table' or 'columns')")
    return DefinitionFile(path, kind, data, node)


def files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _compact(value: Any) -> Any:
    """Drop null fields: the file says only what is set (defaults apply again on the way in)."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def write(directory: Path, kind: str, key: str, definition: dict[str, Any]) -> Path:
    path = directory / f"{kind}s" / f"{key}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(_compact(definition), allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    return path
