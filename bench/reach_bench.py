"""What the reach checks cost, and how long fast webhook subscribers wait while one receiver hangs.

The suite shows that the fast subscribers are served while the slow one is held (by counting);
the times are measured here: the check per host form, and the time until every fast subscriber
has every change while one receiver holds each request for the whole attempt time limit.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from app.config import Settings
from app.db import Database
from app.governance.delivery import WebhookWorker
from app.main import create_app
from app.reach import Reach, Target
from bench.fixture import World, make_world
from bench.stats import Timing, summarise, time_sync

HOLD = 2.0  # seconds the slow receiver holds each request: the attempt time limit
FAST, CHANGES = 10, 5


def _receiver(hold: float, seen: list[float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            if hold:
                time.sleep(hold + 0.5)
            seen.append(time.perf_counter())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _checks(runs: int) -> dict[str, Timing]:
    reach = Reach.for_sources(Settings(source_allow_hosts=[], source_data_dirs=["/srv/data"]))

    def refused(target: Target) -> None:
        try:
            reach.check(target)
        except Exception:  # noqa: BLE001 - the refusal is what is timed
            return

    return {
        "public address (allowed)": time_sync(lambda: reach.check(Target(host="93.184.216.34", port=5432)), runs, 200),
        "0x7f000001 (refused)": time_sync(lambda: refused(Target(host="0x7f000001", port=5432)), runs, 200),
        "localhost, resolved (refused)": time_sync(lambda: refused(Target(host="localhost", port=5432)), runs, 50),
        "file under a data directory": time_sync(lambda: reach.check(Target(path="/srv/data/sales.duckdb")), runs, 200),
    }


async def _lanes(root: Path, world: World) -> dict[str, float]:
    settings = Settings(environment="test", database_url=world.env["YARDSTICK_DATABASE_URL"], var_dir=root, webhook_delivery=False,
                        secret_key="bench-" + uuid.uuid4().hex, webhook_allow_hosts=["127.0.0.1"])
    app = create_app(settings)
    slow_seen: list[float] = []
    fast_seen: list[list[float]] = [[] for _ in range(FAST)]
    servers = [_receiver(HOLD, slow_seen), *(_receiver(0, seen) for seen in fast_seen)]
    h = {"Authorization": f"Bearer {world.admin_key}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=h) as c:
            await c.post("/v1/domains", json={"name": "bench"})
            await c.post("/v1/sources", json={"name": "facts", "url": f"duckdb://{world.facts}"})
            await c.post("/v1/datasets", json={"name": "sales", "domain": "bench", "source": "facts", "table": "sales",
                                               "columns": [{"name": "amount", "type": "decimal"}]})
            for server in servers:
                await c.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{server.server_address[1]}/", "secret": "x" * 16, "domain": "bench"})
            for i in range(CHANGES):
                await c.patch("/v1/datasets/sales", json={"owner": f"o{i}"}, headers={"If-Match": f'"{i + 1}"'})
        worker = WebhookWorker.from_settings(Database(settings.database_url), settings.model_copy(update={"webhook_timeout_seconds": HOLD}))
        started = time.perf_counter()
        tick = asyncio.create_task(worker.run_once())
        while sum(len(s) for s in fast_seen) < FAST * CHANGES:
            await asyncio.sleep(0.005)
        fast_done = time.perf_counter() - started
        await tick
        all_done = time.perf_counter() - started
        await worker.stop()
    finally:
        for server in servers:
            server.shutdown()
        await app.state.shutdown()
    return {"fast": fast_done, "all": all_done, "serial": HOLD * CHANGES}


def run(full: bool) -> dict:
    runs = 21 if full else 7
    root = Path(tempfile.mkdtemp(prefix="yardstick-bench-reach-"))
    world = make_world(10, workdir=root)  # a migrated registry and an admin key
    return {"checks": _checks(runs), "lanes": asyncio.run(_lanes(root, world))}


def report(result: dict) -> list[str]:
    lanes = result["lanes"]
    lines = ["## Reach checks and webhook lanes", "",
             "| check (app/reach.py, in process) | time |", "|---|---|"]
    lines += [f"| {name} | {t.us()} |" for name, t in result["checks"].items()]
    lines += ["", f"One receiver holds every request past the {HOLD:g} s attempt limit; {FAST} others answer at once; "
              f"{CHANGES} changes each, one worker tick:", "",
              "| | time |", "|---|---|",
              f"| every fast subscriber has every change | {lanes['fast']:.3f} s |",
              f"| the tick ends (the slow lane's {CHANGES} attempts timed out in turn) | {lanes['all']:.3f} s |",
              f"| one lane for all (delivery before this change): fast subscribers wait at least | {lanes['serial']:.1f} s |", ""]
    return lines
