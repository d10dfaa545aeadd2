"""What sources and webhooks may reach (app/reach.py): hosts after DNS resolution, files under the
data directories, never the registry. Expectations are written out by hand per address."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

from app.config import Settings
from app.errors import ErrorCode, Forbidden
from app.reach import Reach, Target

pytestmark = pytest.mark.no_registry

# Each a spelling of a loopback, link-local, private or metadata host, and what it is.
DENIED = [
    ("127.0.0.1", "loopback"), ("0x7f000001", "loopback"), ("2130706433", "loopback"), ("127.1", "loopback"),
    ("0177.0.0.1", "loopback"), ("[::1]", "loopback"), ("::1", "loopback"), ("[::ffff:127.0.0.1]", "loopback"),
    ("localhost", "loopback"),  # a name: refused because of what it resolves to
    ("169.254.169.254", "link-local"), ("[fe80::1]", "link-local"), ("0.0.0.0", "unspecified"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.10", "private"), ("[fd00:ec2::254]", "private"),
    ("100.64.0.1", "non-global"),
    ("metadata.google.internal", "metadata"), ("METADATA.GOOGLE.INTERNAL.", "metadata"),
]


def sources(**settings) -> Reach:
    return Reach.for_sources(Settings(**{"source_allow_hosts": [], "source_data_dirs": [], **settings}))


@pytest.mark.parametrize(("host", "kind"), DENIED)
def test_denied_hosts_are_refused_after_resolution(host, kind):
    with pytest.raises(Forbidden) as err:
        sources().check(Target(host=host, port=5432), pointer="/url")
    assert err.value.code == ErrorCode.SOURCE_HOST_FORBIDDEN and err.value.status == 403
    assert err.value.details == {"pointer": "/url", "setting": "YARDSTICK_SOURCE_ALLOW_HOSTS"}
    assert kind in err.value.message


def test_webhooks_refuse_the_same_hosts_under_their_own_setting():
    reach = Reach.for_webhooks(Settings(webhook_allow_hosts=[]))
    for host, _ in DENIED:
        with pytest.raises(Forbidden) as err:
            reach.check(Target(host=host, port=80))
        assert err.value.code == ErrorCode.WEBHOOK_HOST_FORBIDDEN and err.value.details == {"setting": "YARDSTICK_WEBHOOK_ALLOW_HOSTS"}


def test_public_addresses_pass_and_the_allow_list_opens_exactly_what_it_names():
    assert sources().addresses("93.184.216.34", 443) == [ipaddress.ip_address("93.184.216.34")]
    allowed = sources(source_allow_hosts=["127.0.0.1", "10.0.0.0/8", "Db.Internal"])
    for host in ("127.0.0.1", "0x7f000001", "127.1", "10.200.0.1", "db.internal"):
        allowed.check(Target(host=host, port=5432))
    for host in ("127.0.0.2", "[::1]", "192.168.0.1", "169.254.169.254"):
        with pytest.raises(Forbidden):
            allowed.check(Target(host=host, port=5432))


def test_a_name_is_judged_by_every_address_it_resolves_to():
    answers = {"rebind.example": ["93.184.216.34", "127.0.0.1"], "public.example": ["93.184.216.34"]}
    reach = Reach.for_sources(Settings(source_allow_hosts=[]), resolver=lambda h, _: [ipaddress.ip_address(a) for a in answers.get(h, [])])
    reach.check(Target(host="public.example", port=5432))
    reach.check(Target(host="unknown.example", port=5432))  # resolves to nothing: the driver cannot reach it either
    with pytest.raises(Forbidden, match="loopback"):
        reach.check(Target(host="rebind.example", port=5432))


def test_files_only_under_data_directories_never_in_var(tmp_path):
    data, var = tmp_path / "data", tmp_path / "var"
    reach = Reach.for_sources(Settings(source_data_dirs=[data], var_dir=var, database_url=f"sqlite+aiosqlite:///{var}/yardstick.db"))
    reach.check(Target(path=str(data / "sales.duckdb")))
    reach.check(Target(path=str(var / "warehouse" / "demo.duckdb")))  # the demo's directory, always allowed
    for path in ("/etc/passwd", str(tmp_path / "elsewhere.duckdb"), str(data / ".." / "var" / "admin.key")):
        with pytest.raises(Forbidden) as err:
            reach.check(Target(path=path), pointer="/url")
        assert err.value.code == ErrorCode.SOURCE_PATH_FORBIDDEN
        assert err.value.details == {"pointer": "/url", "setting": "YARDSTICK_SOURCE_DATA_DIRS"}
    # var/ (or a directory above it) as a data directory still does not open var/: only data directories inside it
    for wide in ([tmp_path], [var]):
        reach = Reach.for_sources(Settings(source_data_dirs=wide, var_dir=var, database_url="sqlite+aiosqlite:///:memory:"))
        with pytest.raises(Forbidden):
            reach.check(Target(path=str(var / "admin.key")))


def test_the_registry_file_is_never_a_source_by_any_name(tmp_path):
    registry = tmp_path / "registry.db"
    registry.write_bytes(b"SQLite format 3\x00")
    os.symlink(registry, tmp_path / "innocent.duckdb")
    os.link(registry, tmp_path / "hard.duckdb")
    reach = Reach.for_sources(Settings(source_data_dirs=[tmp_path], var_dir=tmp_path / "var", database_url=f"sqlite+aiosqlite:///{registry}"))
    for path in (registry, Path(f"{registry}-wal"), Path(f"{registry}-shm"), tmp_path / "innocent.duckdb", tmp_path / "hard.duckdb",
                 tmp_path / "." / "registry.db", tmp_path):  # tmp_path: a chdb directory holding the registry
        with pytest.raises(Forbidden) as err:
            reach.check(Target(path=str(path)))
        assert err.value.code == ErrorCode.SOURCE_IS_REGISTRY, path


def test_the_postgresql_registry_is_never_a_source_even_on_an_allowed_host():
    reach = Reach.for_sources(Settings(source_allow_hosts=["127.0.0.1", "localhost"],
                                       database_url="postgresql+asyncpg://yardstick@127.0.0.1:5432/registry"))
    for host in ("127.0.0.1", "localhost", "0x7f000001"):
        with pytest.raises(Forbidden) as err:
            reach.check(Target(host=host, port=5432, database="registry"))
        assert err.value.code == ErrorCode.SOURCE_IS_REGISTRY
    reach.check(Target(host="127.0.0.1", port=5432, database="warehouse"))  # another database on that server
    reach.check(Target(host="127.0.0.1", port=5433, database="registry"))  # another server
    with pytest.raises(Forbidden):
        reach.check_server("registry", "127.0.0.1", 5432)  # what a connected server says of itself
    with pytest.raises(Forbidden):
        reach.check_server("registry", None, 5432)  # over the server's Unix socket
    reach.check_server("warehouse", "127.0.0.1", 5432)


def test_quoted_and_scoped_hosts_are_read_as_drivers_read_them():
    for host in ("fe80::1%25eth0", "%31%32%37.0.0.1", "127.0.0.1."):
        with pytest.raises(Forbidden):
            sources().check(Target(host=host, port=5432))
