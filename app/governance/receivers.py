"""The HTTP client for webhook receivers: it connects only to addresses webhooks may reach.

The check runs in the client's network backend on the address it then connects to, for every
connection it opens (redirect hops included), so a name cannot resolve to an allowed address
for the check and to a forbidden one for the connection. TLS still verifies the host name.
"""

from __future__ import annotations

import asyncio
import typing

import httpcore
import httpx

from app.errors import AppError
from app.reach import Reach

MAX_REDIRECTS = 5  # when following redirects is turned on


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, reach: Reach) -> None:
        self._reach, self._inner = reach, httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.to_thread(self._reach.addresses, host, port)
        except AppError as exc:
            raise httpcore.ConnectError(f"{exc.code}: {exc.message}") from None
        if not addresses:
            raise httpcore.ConnectError(f"the host '{host}' does not resolve")
        refused: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except httpcore.ConnectError as exc:
                refused = exc
        raise refused or httpcore.ConnectError("no address answered")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhook receivers are reached over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose every connection goes through the guard."""

    def __init__(self, reach: Reach) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                                  network_backend=_GuardedBackend(reach))


def receiver_client(reach: Reach, *, timeout: float, follow_redirects: bool) -> httpx.AsyncClient:
    """A client for webhook receivers: no proxies from the environment, redirects only when turned on."""
    return httpx.AsyncClient(transport=GuardedTransport(reach), trust_env=False, timeout=timeout,
                             follow_redirects=follow_redirects, max_redirects=MAX_REDIRECTS)
