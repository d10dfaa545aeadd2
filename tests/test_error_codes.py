"""One ErrorCode enum names every error code; no site writes a code as a free string."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.errors import ErrorCode

APP = Path(__file__).resolve().parent.parent / "app"
WARNINGS = {"ResolutionWarning"}  # resolution warnings carry their own codes; they are not errors


def _free_codes(tree: ast.AST) -> list[int]:
    """Lines where a code is a string literal: `code="X"` in a call, or `code = "X"` in a class."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) not in WARNINGS:
            lines += [k.value.lineno for k in node.keywords if k.arg == "code" and isinstance(k.value, (ast.Constant, ast.JoinedStr))]
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            lines += [node.lineno for t in node.targets if getattr(t, "id", None) == "code"]
    return lines


@pytest.mark.no_registry
def test_no_error_code_is_a_free_string():
    found = {}
    for path in APP.rglob("*.py"):
        lines = _free_codes(ast.parse(path.read_text(), str(path)))
        if lines:
            found[str(path.relative_to(APP.parent))] = lines
    assert found == {}, f"use an ErrorCode member: {found}"


@pytest.mark.no_registry
def test_wire_strings_are_the_member_names():
    assert all(code.value == code.name and f"{code}" == code.name for code in ErrorCode)
    assert ErrorCode.not_found("metric") is ErrorCode.METRIC_NOT_FOUND and ErrorCode.exists("dataset") is ErrorCode.DATASET_EXISTS
