"""Time limits hold whatever the driver does: on the threaded engines an interrupt that blocks or
fails never holds up the answer or the worker, and a source cannot pile up workers that ignore
interrupts; on PostgreSQL a hung server cannot hold the answer past the limit."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading

import pytest

from app.engines import create_engine
from app.engines.threaded import ThreadedEngine
from app.errors import QueryTimeout, SourceUnavailable
from tests.engines.runs import GUARD, Runs


class Driver(ThreadedEngine):
    """A stand-in driver: each statement runs until `go` is set; the interrupt does `on_interrupt`."""

    kind, dialect = "stand-in", "duckdb"

    def __init__(self, on_interrupt=lambda: None) -> None:
        super().__init__("stand-in://warehouse", max_workers=4)
        self.on_interrupt = on_interrupt
        self.go = threading.Event()
        self.interrupted = threading.Event()
        self.statements = 0
        self.released = threading.Event()

    @classmethod
    def target(cls, url: str):  # where the URL points: nowhere a reach policy would check
        return None

    def _open(self):
        return object()

    def _release(self, handle) -> None:
        self.released.set()

    def _interrupt(self, handle) -> None:
        self.interrupted.set()
        self.on_interrupt()

    def _translate(self, exc, text):
        return None

    def _fetch(self, handle, sql, params, *, timeout, limit):
        self.statements += 1
        assert self.go.wait(GUARD), "the statement was never let go"
        return ["one"], [(1,)]


async def settled(condition) -> None:
    """Wait (at most GUARD) until `condition()` holds; the caller's assertions say what must follow."""
    for _ in range(int(GUARD / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)


async def test_a_blocking_interrupt_holds_up_neither_the_answer_nor_the_worker():
    """The interrupt blocks (as a Trino cancel or a Spark Connect RPC to a hung server does): the
    caller gets its 504 and the worker returns while the interrupt is still blocked; the handle is
    given back once the interrupt is done with it."""
    unblock = threading.Event()
    driver = Driver(on_interrupt=lambda: unblock.wait(GUARD))
    runs = Runs(driver)
    try:
        with pytest.raises(QueryTimeout):
            await driver.execute("SELECT 1", [], timeout=0.2, max_rows=5)
        assert driver.interrupted.is_set() and not unblock.is_set()
        driver.go.set()  # the statement stops on its own while its interrupt is still blocked
        await runs.ended()
        assert not driver.released.is_set()  # the blocked interrupt still holds the handle
        unblock.set()
        assert await asyncio.to_thread(driver.released.wait, GUARD)
    finally:
        unblock.set()
        driver.go.set()
        await driver.close()


async def test_a_failing_interrupt_is_logged_and_the_query_answers_504(caplog):
    def fail():
        raise RuntimeError("cancel refused by sc://spark.internal:15002/;token=t0ken-value")

    driver = Driver(on_interrupt=fail)
    runs = Runs(driver)
    try:
        with caplog.at_level(logging.WARNING, logger="app.engines.threaded"):
            with pytest.raises(QueryTimeout):
                await driver.execute("SELECT 1", [], timeout=0.2, max_rows=5)
            driver.go.set()
            await runs.ended()
        assert "interrupting a stand-in query failed: RuntimeError" in caplog.text
        assert "t0ken-value" not in caplog.text
    finally:
        driver.go.set()
        await driver.close()


async def test_a_source_refuses_queries_while_half_its_workers_are_stuck():
    """Statements that ignore their interrupt keep their worker; with 2 of 4 workers stuck the
    source answers 503 at once (no statement started) until they return, then answers again."""
    driver = Driver()
    try:
        for _ in range(2):
            with pytest.raises(QueryTimeout):
                await driver.execute("SELECT 1", [], timeout=0.2, max_rows=5)
        await settled(lambda: getattr(driver, "_stuck", None) == 2)  # each is stuck a moment after its 504
        with pytest.raises(SourceUnavailable) as refused:
            await driver.execute("SELECT 1", [], timeout=0.2, max_rows=5)
        assert refused.value.status == 503 and refused.value.headers["Retry-After"] == "1"
        assert refused.value.details == {"stuck_queries": 2} and driver.statements == 2
        driver.go.set()
        await settled(lambda: driver._stuck == 0)
        assert (await driver.execute("SELECT 1", [], timeout=GUARD, max_rows=5)).rows == [(1,)]
    finally:
        driver.go.set()
        await driver.close()


class HungPostgres:
    """A PostgreSQL server on loopback that lets a client in and then never answers again; it
    notes when the client drops the connection."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"postgresql://reader:pw@127.0.0.1:{self._sock.getsockname()[1]}/warehouse"
        self.dropped = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if _message(conn) == 80877103:  # SSLRequest: no TLS here
                conn.sendall(b"N")
                if _message(conn) != 196608:  # a cancel request, not a session: hold it
                    return
            ready = (b"R" + struct.pack("!II", 8, 0) + b"K" + struct.pack("!III", 12, 1, 2)
                     + b"Z" + struct.pack("!I", 5) + b"I")
            conn.sendall(_status(b"server_version", b"15.0") + _status(b"client_encoding", b"UTF8")
                         + _status(b"integer_datetimes", b"on") + ready)
            while conn.recv(65536):
                pass  # read, never answered
            self.dropped.set()
        except OSError:
            pass

    def close(self) -> None:
        self._sock.close()
        for conn in self._conns:
            conn.close()


def _message(conn: socket.socket) -> int:
    """A startup-phase message's code (protocol version, SSLRequest or CancelRequest)."""
    length = struct.unpack("!I", conn.recv(4))[0]
    return struct.unpack("!I", conn.recv(length - 4)[:4])[0]


def _status(key: bytes, value: bytes) -> bytes:
    body = key + b"\0" + value + b"\0"
    return b"S" + struct.pack("!I", 4 + len(body)) + body


async def test_a_hung_postgres_server_cannot_hold_the_answer_past_the_limit():
    """The server takes the session and hangs: the query is refused at its limit (504, or 503 when
    the connection itself cannot be had in time), while asyncpg is still waiting to give the hung
    connection back; that clean-up goes on in the background and ends on the pool's own timeout."""
    server = HungPostgres()
    engine = create_engine(server.url)
    try:
        with pytest.raises((QueryTimeout, SourceUnavailable)):
            await engine.execute("SELECT 1", [], timeout=5, max_rows=5)
        # asyncpg gives up on the hung connection 5 s (its acquire timeout) after the cancel, and drops
        # it then; an answer that waited for that sees the drop at once, this one 3 s before it
        assert not await asyncio.to_thread(server.dropped.wait, 1.0), "the answer waited for asyncpg's clean-up"
    finally:
        server.close()
        await engine.close()
