"""Spark SQL through pyspark: Spark Connect for a cluster, or an in-process local session.

`sc://host:15002` (Spark Connect; needs pyspark's `connect` extra: pandas, pyarrow, grpcio)
reaches a cluster; `spark+local://` (`?threads=N`, default 2) runs Spark in this process,
for development and tests: queries see the tables and views of the process's session.
Parameters bind as named markers (`:p0`, Spark 3.4+). A timed-out query's jobs are
cancelled: by job group in local mode (interruptOnCancel), by operation tag over Connect.
Spark Connect retries an unreachable server for ten minutes by default; here its waits between
retries add up to about RETRY_SECONDS (at most half the time limit), so a server that is down
answers 503 well before the default time limit, and an interrupt or a close never waits long.
The local session runs with `spark.sql.runSQLOnFiles=false` (no ``SELECT … FROM csv.`/path` ``);
what a Connect server may read is that cluster's own configuration.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.engines.base import named
from app.engines.threaded import ThreadedEngine
from app.errors import AppError, ErrorCode, Invalid, SourceError, SourceUnavailable
from app.reach import Reach, Target

_UNAVAILABLE = ("Py4JNetworkError", "RetriesExceeded", "ConnectionRefusedError")
# gRPC status codes of a Spark Connect error that mean the server, not the query, failed
_UNAVAILABLE_STATUS = {"UNAVAILABLE", "UNAUTHENTICATED", "PERMISSION_DENIED", "DEADLINE_EXCEEDED"}
RETRY_SECONDS = 4.0  # Spark Connect's retries of an unreachable server, in total, at most


@dataclass(frozen=True)
class _Query:
    """One query's session and the job group / tag that cancels it."""

    session: Any
    group: str


class SparkEngine(ThreadedEngine):
    kind = "spark"
    dialect = "spark"

    def __init__(self, url: str, *, reach: Reach | None = None, max_workers: int = 4) -> None:
        super().__init__(url, reach=reach, max_workers=max_workers)
        parts = urlsplit(url)
        self._remote = parts.scheme.lower() == "sc"
        self._url = url
        if self._remote:  # sc://host:port/;token=…;user_id=… : keep the parameters out of errors
            self._secrets += [p.split("=", 1)[1] for p in parts.path.split(";") if "=" in p and len(p) > 4]
            self._threads = 0
        else:
            threads = parse_qs(parts.query).get("threads", ["2"])[0]
            if not threads.isdigit() or not 1 <= int(threads) <= 64:
                raise Invalid("spark+local:// takes ?threads=N with 1 <= N <= 64", code=ErrorCode.INVALID_SOURCE_URL)
            self._threads = int(threads)
        self._session: Any = None
        self._lock = threading.Lock()

    @classmethod
    def target(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme.lower() != "sc":
            return Target()  # spark+local:// runs in this process
        if not parts.hostname:
            raise Invalid("a Spark Connect source URL is sc://host:15002", code=ErrorCode.INVALID_SOURCE_URL)
        return Target(host=parts.hostname, port=parts.port or 15002)

    def _spark(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._connect()
            return self._session

    def _connect(self) -> Any:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SourceUnavailable("pyspark is not installed (pip install 'yardstick[spark]')") from None
        if self._remote:
            self.check_reach()
            try:  # Connect's own builder: the classic one marks the whole process as Connect-only
                from pyspark.sql.connect.session import SparkSession as RemoteSession

                return RemoteSession.builder.remote(self._url).create()
            except ImportError as exc:
                raise SourceUnavailable(
                    f"Spark Connect needs pyspark's connect extra (pip install 'yardstick[spark-connect]'): {exc}"
                ) from None
        # One local session per process: getOrCreate shares it (and its views) with the embedding process.
        builder = (SparkSession.builder.master(f"local[{self._threads}]").appName("yardstick")
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", str(self._threads)))
        session = builder.getOrCreate()
        session.conf.set("spark.sql.runSQLOnFiles", "false")
        return session

    def _open(self) -> _Query:
        return _Query(self._spark(), f"yardstick-{uuid.uuid4().hex}")

    def _release(self, handle: _Query) -> None:
        """Groups and tags are cleared by `_fetch`."""

    def _interrupt(self, handle: _Query) -> None:
        if self._remote:
            handle.session.interruptTag(handle.group)
        else:
            handle.session.sparkContext.cancelJobGroup(handle.group)

    def _fetch(self, handle: _Query, sql: str, params: tuple, *, timeout: float,
               limit: int) -> tuple[list[str], Sequence[Sequence[Any]]]:
        spark = handle.session
        if self._remote:
            spark.client.set_retry_policies([_retries(min(RETRY_SECONDS, timeout / 2))])
            spark.addTag(handle.group)
        else:  # job groups are per thread; pyspark pins each Python thread to a JVM thread
            spark.sparkContext.setJobGroup(handle.group, "yardstick query", interruptOnCancel=True)
        try:
            frame = spark.sql(sql, args=named(params))
            return list(frame.columns), [tuple(r) for r in frame.take(limit)]
        finally:
            if self._remote:
                spark.removeTag(handle.group)
            else:
                spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)

    def _translate(self, exc: Exception, text: str) -> AppError | None:
        names = {t.__name__ for t in type(exc).__mro__}
        status = getattr(exc, "getGrpcStatusCode", lambda: None)()  # Spark Connect errors
        if names & set(_UNAVAILABLE) or getattr(status, "name", None) in _UNAVAILABLE_STATUS:
            return SourceUnavailable(f"Spark is not reachable: {text[:500]}")
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            return SourceError(f"Spark rejected the query: {text[:1000]}")
        return None

    async def close(self) -> None:
        await super().close()
        with self._lock:
            session, self._session = self._session, None
        if session is not None and self._remote:  # a local session belongs to the process and outlives its engines
            # stop() releases the session on the server, an RPC: never on the event loop
            threading.Thread(target=session.stop, daemon=True, name="yardstick-spark-close").start()


def _retries(budget: float) -> Any:
    """A Spark Connect retry policy whose waits add up to about `budget` seconds."""
    from pyspark.sql.connect.client.retries import DefaultPolicy

    waits, count = 0.0, 0
    while waits < budget:
        waits, count = waits + min(0.1 * 2**count, 1.0), count + 1
    return DefaultPolicy(max_retries=count, initial_backoff=100, backoff_multiplier=2.0, max_backoff=1000,
                         max_server_retry_delay=1000)
