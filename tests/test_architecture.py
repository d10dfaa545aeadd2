"""The layers of docs/architecture.md hold: import-linter's contracts pass, and every package has a layer."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import app

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.no_registry


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_import_contracts_are_kept():
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_top_level_module_has_a_layer():
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    named = {m for line in layers for m in re.split(r"[|:]", line) if m.strip()}
    named = {m.strip() for m in named}
    modules = {f"app.{m.name}" for m in pkgutil.iter_modules(app.__path__)}
    assert modules - named == set(), "give these a layer in pyproject.toml and docs/architecture.md"
    assert named - modules == set(), "the layers name modules that do not exist"


def test_the_architecture_page_names_every_layer():
    page = (ROOT / "docs" / "architecture.md").read_text()
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    for line in layers:
        for module in re.split(r"[|:]", line):
            assert module.strip() in page, f"{module.strip()} is a layer in pyproject.toml but not on docs/architecture.md"
