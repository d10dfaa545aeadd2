"""yardstick plan / apply / export over HTTP against a real server on loopback: 200 files round-trip."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import uvicorn
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from tests.governance.test_batches import N_DATASETS, library
from tests.helpers import sales_setup


@pytest.fixture
def server(settings):
    """The same registry served by a second app instance in a thread on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(settings)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    asyncio.run(app.state.db.dispose())


def write_library(directory) -> None:
    for item in library():
        path = directory / item["origin"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(item["definition"], allow_unicode=True, sort_keys=False))


async def test_plan_apply_export_round_trip(client, admin_key, server, tmp_path):
    editor = await sales_setup(client, admin_key)
    src, out = tmp_path / "defs", tmp_path / "exported"
    write_library(src)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, [*args, "--url", server, "--key", editor])

    plan = await asyncio.to_thread(run, "plan", str(src))
    assert plan.exit_code == 0, plan.output
    assert "200 to create, 0 to change, 0 unchanged" in plan.stdout and "+ create dataset orders_00" in plan.stdout
    applied = await asyncio.to_thread(run, "apply", str(src), "--note", "initial")
    assert applied.exit_code == 0 and "applied: 200 created, 0 new versions, 0 unchanged" in applied.stdout
    assert "+ created dataset orders_00 (version 1)" in applied.stdout.splitlines()
    assert sum(line.startswith("+ created ") for line in applied.stdout.splitlines()) == 200
    again = await asyncio.to_thread(run, "apply", str(src))
    assert "applied: 0 created, 0 new versions, 200 unchanged" in again.stdout
    assert "= unchanged metric sales.m001 (version 1)" in again.stdout.splitlines()
    assert sum(line.startswith("= unchanged ") for line in again.stdout.splitlines()) == 200

    exported = await asyncio.to_thread(run, "export", str(out))
    assert exported.exit_code == 0 and "exported 200" in exported.stdout
    assert len(list((out / "metrics").glob("*.yaml"))) == 190 and len(list((out / "datasets").glob("*.yaml"))) == N_DATASETS
    joined = yaml.safe_load((out / "metrics" / "sales.m019.yaml").read_text())
    assert joined["expr"] == "{sales.m018} * 2" and "filter" not in joined
    noop = await asyncio.to_thread(run, "apply", str(out))
    assert "applied: 0 created, 0 new versions, 200 unchanged" in noop.stdout, noop.output

    path = out / "metrics" / "sales.m001.yaml"
    path.write_text(path.read_text().replace("SUM(amount)", "SUM(net_amount)"))
    changed = await asyncio.to_thread(run, "plan", str(out))
    assert "~ update metric sales.m001" in changed.stdout and 'measure: "SUM(amount)" → "SUM(net_amount)"' in changed.stdout

    applied = await asyncio.to_thread(run, "apply", str(out))
    lines = applied.stdout.splitlines()
    assert applied.exit_code == 0 and "applied: 0 created, 1 new version, 199 unchanged" in lines, applied.output
    assert lines[lines.index("~ new version 2 of metric sales.m001") + 1] == '    measure: "SUM(amount)" → "SUM(net_amount)"'
    served = (await client.get("/v1/metrics/sales.m001", headers={"Authorization": f"Bearer {editor}"})).json()
    assert (served["version"], served["definition"]["measure"]) == (2, "SUM(net_amount)")


async def test_errors_point_at_file_line_and_column(client, admin_key, server, tmp_path):
    editor = await sales_setup(client, admin_key)
    write_library(tmp_path)
    runner = CliRunner()
    bad_yaml = tmp_path / "metrics" / "broken.yaml"
    bad_yaml.write_text("key: sales.broken\nname: [unclosed\ntype: simple\n")
    result = await asyncio.to_thread(runner.invoke, cli, ["apply", str(tmp_path), "--url", server, "--key", editor])
    assert result.exit_code == 1
    assert f"{bad_yaml}:3:" in result.stderr

    bad_yaml.unlink()
    bad = tmp_path / "metrics" / "sales.m150.yaml"
    bad.write_text(bad.read_text().replace("SUM(amount)", "SUM(nope)"))
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if text.startswith("measure:"))
    result = await asyncio.to_thread(runner.invoke, cli, ["apply", str(tmp_path), "--url", server, "--key", editor])
    assert result.exit_code == 1
    assert f"{bad}:{line}:10: " in result.stderr and "nope" in result.stderr
    listed = await client.get("/v1/metrics", headers={"Authorization": f"Bearer {editor}"})
    assert listed.json()["items"] == []
