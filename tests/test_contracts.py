"""The committed contract files match what the code generates."""

from __future__ import annotations

import pytest

from app.contracts import rendered


@pytest.mark.no_registry
def test_contract_files_have_not_drifted():
    for path, text in rendered().items():
        assert path.exists(), f"{path.name} missing: run `make openapi`"
        assert path.read_text() == text, f"{path.name} drifted from the code: run `make openapi`"
