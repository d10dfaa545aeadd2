"""Constrained string types shared by every definition and request: names, keys, labels, texts."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)]
MetricKey = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=127)
]
TableName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$", max_length=190),
]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it rather than fail on write
Expr = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=NO_NUL)]
Text = Annotated[str, StringConstraints(max_length=4000, pattern=NO_NUL)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
