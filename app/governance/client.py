"""The client side of definitions as code: plan, apply and export a directory over the HTTP API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from app.governance.files import DefinitionFile, FileError, files_in, read, write

__all__ = ["ApplyError", "batch", "describe", "export", "files_in", "load"]


class ApplyError(Exception):
    """The server refused the batch; `lines` locate it (file:line:column when the item came from a file)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def load(directory: Path, progress: Callable[[Iterable[Path]], Iterable[Path]] = lambda it: it) -> list[DefinitionFile]:
    """Read every YAML file under `directory`; all file errors at once, each file:line:column."""
    found, problems = [], []
    for path in progress(files_in(directory)):
        try:
            found.append(read(path))
        except FileError as err:
            problems.append(str(err))
    if problems:
        raise ApplyError(problems)
    return found


def _explain(response: httpx.Response, files: list[DefinitionFile]) -> ApplyError:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return ApplyError([f"HTTP {response.status_code}: {response.text[:500]}"])
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    item = details.get("item")
    if isinstance(item, int) and 0 <= item < len(files):
        line, column = files[item].locate(details.get("inner_pointer") or "")
        return ApplyError([f"{files[item].path}:{line}:{column}: {error['code']}: {error['message']}"])
    return ApplyError([f"{error.get('code')}: {error.get('message')}"])


def batch(client: httpx.Client, files: list[DefinitionFile], *, dry_run: bool, change_note: str = "") -> dict[str, Any]:
    body = {
        "dry_run": dry_run,
        "change_note": change_note,
        "items": [{"kind": f.kind, "definition": f.data, "origin": str(f.path)} for f in files],
    }
    response = client.post("/v1/batches", json=body, timeout=300)
    if response.status_code != 200:
        raise _explain(response, files)
    return response.json()


def describe(result: dict[str, Any]) -> list[str]:
    """What a batch will do (a plan) or did (an apply), per definition, with the field-level diff of each change."""
    return _planned(result) if result["dry_run"] else _applied(result)


def _planned(result: dict[str, Any]) -> list[str]:
    lines = []
    for item in result["items"]:
        if item["action"] == "create":
            lines.append(f"+ create {item['kind']} {item['key']}")
        elif item["action"] == "update":
            lines.append(f"~ update {item['kind']} {item['key']} (version {item['version']})")
            lines.extend(f"    {c['summary']}" for c in item["changes"])
    lines.append(f"{result['created']} to create, {result['updated']} to change, {result['unchanged']} unchanged")
    return lines


def _applied(result: dict[str, Any]) -> list[str]:
    lines = []
    for item in result["items"]:
        what = f"{item['kind']} {item['key']}"
        if item["action"] == "create":
            lines.append(f"+ created {what} (version {item['version']})")
        elif item["action"] == "update":
            lines.append(f"~ new version {item['version']} of {what}")
            lines.extend(f"    {c['summary']}" for c in item["changes"])
        else:
            lines.append(f"= unchanged {what} (version {item['version']})")
    versions = "new version" if result["updated"] == 1 else "new versions"
    lines.append(f"applied: {result['created']} created, {result['updated']} {versions}, {result['unchanged']} unchanged")
    return lines


def _pages(client: httpx.Client, path: str) -> Iterable[dict[str, Any]]:
    cursor = None
    while True:
        response = client.get(path, params={"limit": 500, **({"cursor": cursor} if cursor else {})})
        if response.status_code != 200:
            raise ApplyError([f"GET {path}: HTTP {response.status_code}: {response.text[:300]}"])
        page = response.json()
        yield from page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return


def export(client: httpx.Client, directory: Path) -> int:
    """Write every readable dataset and metric (retired ones left out) as one YAML file each."""
    count = 0
    for plural, kind in (("datasets", "dataset"), ("metrics", "metric")):
        for item in _pages(client, f"/v1/{plural}"):
            if item["status"] != "retired":
                write(directory, kind, item["key"], item["definition"])
                count += 1
    return count
