"""`make fuzz`: schemathesis against a live server, from the committed contract, with an admin key
and a global reader's key: every operation, 100 examples each; a server error or a status code the
contract does not document fails the run. Loopback only; the server and its registry are temporary.

    python -m tests.fuzz.run [--max-examples N] [--seed S] [--include-path-regex RE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.json"
CHECKS = "not_a_server_error,status_code_conformance"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(var: Path) -> dict[str, str]:
    return {**os.environ, "YARDSTICK_ENVIRONMENT": "test", "YARDSTICK_VAR_DIR": str(var),
            "YARDSTICK_DATABASE_URL": f"sqlite+aiosqlite:///{var}/registry.db", "YARDSTICK_LOG_JSON": "true"}


def _prepare(env: dict[str, str]) -> str:
    """Migrate, install the demo library, and answer the first admin's key (in a child process,
    so this process never holds the settings)."""
    code = ("import asyncio; from app.config import get_settings; from app.migrate import upgrade; "
            "from app.demo.setup import install_demo; from tests.helpers import bootstrap_key; "
            "s = get_settings(); upgrade(s.database_url); asyncio.run(install_demo(s)); "
            "print(asyncio.run(bootstrap_key(s.database_url)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def _serve(env: dict[str, str], port: int, log) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server did not start; see the server log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the server did not become ready")


def _reader_key(base: str, admin: str) -> str:
    answer = httpx.post(f"{base}/v1/principals", json={"name": "fuzz_reader", "roles": [{"role": "reader"}]},
                        headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    answer.raise_for_status()
    return answer.json()["api_key"]


def _schemathesis(base: str, key: str, args: argparse.Namespace, report: Path) -> int:
    """One run; it works in the temporary directory, so its crash cache never lands in the checkout."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", str(SPEC), "--url", base,
        "--checks", CHECKS, "--max-examples", str(args.max_examples), "--seed", str(args.seed),
        "--header", f"Authorization: Bearer {key}", "--workers", "2", "--request-timeout", "60",
        "--phases", "examples,coverage,fuzzing", "--report", "junit", "--report-junit-path", str(report),
        "--suppress-health-check", "all", "--continue-on-failure",
    ]
    if args.include_path_regex:
        command += ["--include-path-regex", args.include_path_regex]
    return subprocess.run(command, cwd=report.parent).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--include-path-regex", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (registry, logs, reports)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yardstick-fuzz-"))
    env = _environment(work)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    failed = []
    with open(work / "server.log", "w") as log:
        admin = _prepare(env)
        server = _serve(env, port, log)
        try:
            keys = {"admin": admin, "reader": _reader_key(base, admin)}
            for who, key in keys.items():
                print(f"== schemathesis as {who} ==", flush=True)
                if _schemathesis(base, key, args, work / f"junit-{who}.xml") != 0:
                    failed.append(who)
        finally:
            server.terminate()
            server.wait(30)
    if failed or args.keep:
        print(f"registry, server log and reports kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        raise SystemExit(f"schemathesis found failures as: {', '.join(failed)}")
    print("schemathesis: 0 failures as admin and as reader")


if __name__ == "__main__":
    main()
