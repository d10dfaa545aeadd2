"""The demo installs targets and a company scorecard that evaluates for every quarter."""

from __future__ import annotations

import pytest

from app.config import WAREHOUSE_DIR
from app.demo.setup import install_demo
from app.demo.warehouse import build_warehouse
from tests.helpers import bearer, ok


@pytest.fixture(scope="session")
def demo_var(tmp_path_factory):
    var = tmp_path_factory.mktemp("kpi-demo-var")
    build_warehouse(var / WAREHOUSE_DIR / "demo.duckdb")
    return var


async def test_demo_scorecard_evaluates(client, admin_key, settings, demo_var):
    demo_settings = settings.model_copy(update={"var_dir": demo_var})
    await install_demo(demo_settings)
    again = await install_demo(demo_settings)  # idempotent: nothing new the second time
    assert again.endswith("0 definitions registered")
    q3 = await ok(await client.get("/v1/scorecards/company/evaluate", params={"period": "2025-Q3"}, headers=bearer(admin_key)))
    nodes = {n["path"]: n for n in q3["nodes"]}
    assert q3["score"] is not None and q3["tier"] in {"excellent", "met", "not_met"}
    assert nodes["/root/children/0/children/0"]["target_source"] == "sum_of_months"  # GMV from monthly targets
    assert nodes["/root/children/0/children/3/children/0"]["scope"] == {"orders.region": "East"}
    statuses = {n["status"] for n in q3["nodes"] if n["metric"]}
    assert len(statuses) > 1  # some met, some missed
    q4 = await ok(await client.get("/v1/scorecards/company/evaluate", params={"period": "2026-Q4"}, headers=bearer(admin_key)))
    assert q4["excluded"] == ["/root/children/0/children/2"]  # the repurchase rate has no 2026-Q4 target
    for quarter in ("2025-Q1", "2025-Q2", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"):
        answer = await ok(await client.get("/v1/scorecards/company/evaluate", params={"period": quarter}, headers=bearer(admin_key)))
        assert answer["excluded"] == [] and answer["score"] is not None
    checks = await ok(await client.get("/v1/domains/sales/checks", headers=bearer(admin_key)))
    assert checks["passed"]["measurable"] == checks["metrics"]  # cumulative metrics included
