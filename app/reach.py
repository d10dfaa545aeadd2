"""What a source or a webhook may reach: files only under the data directories, hosts only outside
loopback, link-local and private ranges unless a setting allows them, and never the registry itself.

Checked when a source or webhook is registered and again when an engine or the webhook client
connects. Names are resolved and every address is checked, so `localhost`, `0x7f000001`,
`2130706433`, `127.1` and `[::1]` are refused like 127.0.0.1 itself.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import make_url

from app.config import Settings
from app.errors import ErrorCode, Forbidden

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[Address]]

# Cloud metadata services by name; their addresses (169.254.169.254, fd00:ec2::254) are link-local or private.
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"})
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")
DATA_DIRS_SETTING = "YARDSTICK_SOURCE_DATA_DIRS"
POSTGRES_PORT = 5432


@dataclass(frozen=True, slots=True)
class Target:
    """Where a source URL points: a local file or directory, or a host and port (PostgreSQL: and a database)."""

    path: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None


@dataclass(frozen=True, slots=True)
class Registry:
    """The registry's own database, which no engine may open: its SQLite files, or its PostgreSQL host and database."""

    files: tuple[Path, ...] = ()
    host: str | None = None
    port: int = POSTGRES_PORT
    database: str | None = None

    @classmethod
    def of(cls, database_url: str) -> Registry:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                return cls()
            main = real(url.database)
            return cls(files=tuple(Path(f"{main}{suffix}") for suffix in SQLITE_COMPANIONS))
        return cls(host=normal(url.host or "localhost"), port=url.port or POSTGRES_PORT, database=url.database)


def resolve(host: str, port: int) -> list[Address]:
    """Every address a name resolves to (empty when it does not resolve), in resolver order."""
    try:
        infos = socket.getaddrinfo(host, port or None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        return []
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


def real(path: str | Path) -> Path:
    return Path(os.path.realpath(os.path.expanduser(path)))


def normal(host: str) -> str:
    """A host as resolvers and drivers read it: unquoted (`fe80::1%25eth0`), no brackets, no trailing dot."""
    return unquote(host).strip().strip("[]").rstrip(".").lower()


def _kind(address: Address) -> str | None:
    """Why an address is refused (loopback, link-local, ...), or None for a global unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-global"


@dataclass(frozen=True)
class Reach:
    """One policy: for sources (files, hosts, the registry) or for webhooks (hosts only)."""

    setting: str  # the setting that allows hosts, named in every refusal
    code: ErrorCode  # SOURCE_HOST_FORBIDDEN or WEBHOOK_HOST_FORBIDDEN
    allow_names: frozenset[str] = frozenset()
    allow_networks: tuple[Network, ...] = ()
    data_dirs: tuple[Path, ...] = ()
    var_dir: Path | None = None
    registry: Registry = field(default_factory=Registry)
    resolver: Resolver = resolve

    @classmethod
    def for_sources(cls, settings: Settings, *, resolver: Resolver = resolve) -> Reach:
        names, networks = _allowed(settings.source_allow_hosts)
        return cls("YARDSTICK_SOURCE_ALLOW_HOSTS", ErrorCode.SOURCE_HOST_FORBIDDEN, names, networks,
                   data_dirs=tuple(real(d) for d in (settings.warehouse_dir, *settings.source_data_dirs)),
                   var_dir=real(settings.var_dir), registry=Registry.of(settings.database_url), resolver=resolver)

    @classmethod
    def for_webhooks(cls, settings: Settings, *, resolver: Resolver = resolve) -> Reach:
        names, networks = _allowed(settings.webhook_allow_hosts)
        return cls("YARDSTICK_WEBHOOK_ALLOW_HOSTS", ErrorCode.WEBHOOK_HOST_FORBIDDEN, names, networks, resolver=resolver)

    def check(self, target: Target, *, pointer: str | None = None) -> None:
        """Refuse (403) a target this policy does not allow; blocking (file system, DNS): call it off the event loop."""
        if target.path is not None:
            self.check_path(target.path, pointer=pointer)
        if target.host is not None:
            self.addresses(target.host, target.port, database=target.database, pointer=pointer)

    def check_path(self, path: str, *, pointer: str | None = None) -> None:
        found = real(path)
        if self._holds_registry(found):
            raise self._refusal(ErrorCode.SOURCE_IS_REGISTRY, "a source may not open the registry's own database file", pointer)
        homes = [d for d in self.data_dirs if found.is_relative_to(d)]
        if not homes:
            raise self._refusal(ErrorCode.SOURCE_PATH_FORBIDDEN, f"a file source must lie under a data directory ({DATA_DIRS_SETTING})",
                                pointer, setting=DATA_DIRS_SETTING)
        if self.var_dir is not None and found.is_relative_to(self.var_dir) and not any(self._inside_var(d) for d in homes):
            raise self._refusal(ErrorCode.SOURCE_PATH_FORBIDDEN, "a file source may not lie in the service's own var directory",
                                pointer, setting=DATA_DIRS_SETTING)

    def _inside_var(self, directory: Path) -> bool:
        """A data directory strictly inside var/ (var/warehouse): the only way into var/."""
        return directory != self.var_dir and directory.is_relative_to(self.var_dir)

    def addresses(self, host: str, port: int | None, *, database: str | None = None, pointer: str | None = None) -> list[Address]:
        """The host's addresses, every one allowed (or the host allowed by name); refused otherwise."""
        name = normal(host)
        found = self.resolver(name, port or 0)
        if database is not None and self._is_registry_database(name, found, port or POSTGRES_PORT, database):
            raise self._refusal(ErrorCode.SOURCE_IS_REGISTRY, "a source may not open the registry's own database", pointer)
        if name in self.allow_names:
            return found
        if name in METADATA_NAMES:
            raise self._refusal(self.code, f"the host is a cloud metadata service; allow it by name in {self.setting}", pointer)
        for address in found:
            kind = _kind(address)
            if kind is not None and not any(address in net for net in self.allow_networks):
                shown = f" ({address})" if pointer is not None else ""  # an admin registering it may see the address
                raise self._refusal(self.code, f"the host resolves to a {kind} address{shown}; allow it in {self.setting}", pointer)
        return found

    def check_server(self, database: str, address: str | None, port: int) -> None:
        """Refuse a PostgreSQL connection that the server itself says reached the registry's database."""
        r = self.registry
        if r.host is None or database != r.database or (port is not None and port != r.port):
            return
        if address is None or ipaddress.ip_address(address) in self.resolver(r.host, r.port):  # None: a Unix socket
            raise self._refusal(ErrorCode.SOURCE_IS_REGISTRY, "a source may not open the registry's own database", None)

    def _holds_registry(self, found: Path) -> bool:
        for registry_file in self.registry.files:
            if found == registry_file or registry_file.is_relative_to(found):
                return True
            if found.is_file() and registry_file.is_file() and os.path.samefile(found, registry_file):  # a hard link
                return True
        return False

    def _is_registry_database(self, name: str, found: list[Address], port: int, database: str) -> bool:
        r = self.registry
        if r.host is None or database != r.database or port != r.port:
            return False
        return name == r.host or bool(set(found) & set(self.resolver(r.host, r.port)))

    def _refusal(self, code: ErrorCode, message: str, pointer: str | None, *, setting: str | None = None) -> Forbidden:
        details = {"setting": setting or self.setting} if code != ErrorCode.SOURCE_IS_REGISTRY else {}
        if pointer is not None:
            details = {"pointer": pointer, **details}
        return Forbidden(message, code=code, details=details or None)


def _allowed(entries: list[str]) -> tuple[frozenset[str], tuple[Network, ...]]:
    """An allow list split into host names and networks (an address is a network of one)."""
    names, networks = set(), []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(normal(entry), strict=False))
        except ValueError:
            names.add(normal(entry))
    return frozenset(names), tuple(networks)
