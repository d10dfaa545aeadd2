"""The engine contract: run already-compiled SQL on one source and return capped rows.

Engines never see definitions or requests; the compiler hands them dialect SQL with
positional parameters. Errors come back as the AppError family and never carry the URL.
Each engine says where its URL points (`target`) and checks it against the sources' reach
(app/reach.py) when it connects, as the sources service does when the source is registered.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from app.config import get_settings
from app.errors import ErrorCode, Invalid
from app.reach import Reach, Target


FILE_SCHEMES = {"clickhouse+chdb"}  # URLs whose path names a local directory


@dataclass(frozen=True, slots=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class Engine(ABC):
    """One source's connection(s); safe to share between concurrent requests."""

    kind: ClassVar[str]
    dialect: ClassVar[str]  # sqlglot dialect name

    def __init__(self, url: str, *, reach: Reach | None = None) -> None:
        """`reach` defaults to this process's policy for sources (its settings)."""
        self._secrets = url_secrets(url)
        self._target = self.target(url)
        self._reach = reach or Reach.for_sources(get_settings())

    @classmethod
    @abstractmethod
    def target(cls, url: str) -> Target:
        """Where the URL points (a file, or a host and port); Invalid for a URL this engine cannot use."""

    def check_reach(self) -> None:
        """Refuse to connect where sources may not reach; blocking (DNS): call it from a worker thread."""
        self._reach.check(self._target)

    @abstractmethod
    async def execute(
        self, sql: str, params: Sequence[Any], *, timeout: float, max_rows: int
    ) -> Result:
        """Run one SELECT; QueryTimeout past `timeout` seconds, Invalid past `max_rows` rows."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections and threads; the engine is not used afterwards."""

    def scrub(self, message: str) -> str:
        """The message with the URL, its password and its path cut out, for errors and logs."""
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return message


def url_secrets(url: str) -> list[str]:
    """The parts of a source URL that must never appear in an error, longest first."""
    parts = urlsplit(url)
    found = {url, parts.netloc, unquote(parts.netloc)}
    if parts.password:
        found |= {parts.password, unquote(parts.password)}
    if parts.path and (parts.scheme.split("+")[0] in {"duckdb", "sqlite"} or parts.scheme in FILE_SCHEMES):
        found.add(parts.path)
    return sorted((s for s in found if len(s) >= 3), key=len, reverse=True)


def named(params: Sequence[Any]) -> dict[str, Any]:
    """Params for dialects with named markers (ClickHouse, Spark): value k is bound as `p<k>`."""
    return {f"p{k}": v for k, v in enumerate(params)}


def row_limit_exceeded(max_rows: int) -> Invalid:
    return Invalid(
        f"the query returns more than {max_rows} rows; narrow it or add a limit",
        code=ErrorCode.ROW_LIMIT_EXCEEDED,
        details={"max_rows": max_rows},
    )


def file_path(url: str) -> str:
    """The absolute file path of a `duckdb:///abs/path` or `sqlite:///abs/path` URL (or directory)."""
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/"):
        raise Invalid(
            f"a {parts.scheme} source URL names an absolute file: {parts.scheme}:///abs/path",
            code=ErrorCode.INVALID_SOURCE_URL,
        )
    return unquote(parts.path)
