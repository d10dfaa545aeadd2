"""A real Spark Connect server for the suite: pyspark's own SparkConnectServer in one JVM, bound to
127.0.0.1, run in the foreground as a child of the test process (util-linux `setpriv` makes it
die with it) and stopped at the end. Started once per session, only when a test asks for it
(about a minute here)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_GUARD = 600.0  # seconds; only turns a server that never comes up into a failure
STARTED = "Spark Connect server started"


def java_missing() -> str | None:
    """Why the server cannot run here, or None (CI has Java 17, so there it always runs)."""
    if shutil.which("java") is None:
        return "Java is not installed: the Spark Connect server is a JVM (CI installs Java 17)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dying_with_us(command: list[str]) -> list[str]:
    """The command, made to get SIGTERM when the test process goes away (where setpriv exists)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


@contextmanager
def connect_server(workdir: Path) -> Iterator[str]:
    """An `sc://127.0.0.1:PORT` URL while the server runs; its warehouse lives in `workdir`."""
    import pyspark

    home = Path(pyspark.__file__).parent
    port = _free_port()
    confs = {
        "spark.connect.grpc.binding.address": "127.0.0.1", "spark.connect.grpc.binding.port": str(port),
        "spark.ui.enabled": "false", "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.shuffle.partitions": "2", "spark.sql.adaptive.enabled": "false",
        "spark.sql.codegen.wholeStage": "false", "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": str(workdir / "warehouse"),
    }
    command = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS, "--name", "yardstick-tests",
               "--master", "local[2]", "--driver-memory", "1g"]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(_dying_with_us(command), env=env, cwd=workdir, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_started(server, log_path)
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_started(server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_GUARD
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if STARTED in text:
            return
        if server.poll() is not None:
            break
        time.sleep(0.5)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"the Spark Connect server did not start (exit {server.poll()}):\n{tail}")
