"""The yardstick command when it cannot do its job: no server at the URL, or a port already taken."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.no_registry


def yardstick(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: its own process, its exit status, what it prints."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def closed_port():
    """A loopback port bound but not listening: a connection to it is refused, and no one else takes it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.mark.parametrize("command", ["plan", "apply", "export"])
def test_unreachable_server_is_one_line_and_a_failure(command, closed_port, tmp_path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "sales.m.yaml").write_text("key: sales.m\nname: M\ntype: simple\ndataset: orders\nmeasure: SUM(x)\n")
    url = f"http://127.0.0.1:{closed_port}"
    result = yardstick(command, str(tmp_path), "--url", url, "--key", "k")
    assert result.returncode == 1, result.stderr
    problems = [line for line in result.stderr.splitlines() if not line.startswith(("planning ", "applying "))]
    assert problems == [f"error: cannot reach the Yardstick server at {url}: [Errno 111] Connection refused"]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_serve_on_a_busy_port_refuses_before_migrating(tmp_path):
    registry = tmp_path / "registry.db"
    env = {"YARDSTICK_DATABASE_URL": f"sqlite+aiosqlite:///{registry}", "YARDSTICK_VAR_DIR": str(tmp_path / "var")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = yardstick("serve", "--port", str(port), env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: cannot serve on 127.0.0.1:{port}: Address already in use (choose another with --port, or make run PORT=...)"
    ]
    assert result.stdout == "" and not registry.exists() and not (tmp_path / "var").exists()
