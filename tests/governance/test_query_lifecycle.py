"""POST /v1/query and the lifecycle: a deprecated metric answers with a warning, a retired one 410.

Needs `app.catalog.lifecycle` wired into app/query/service.py (see the governance README section).
"""

from __future__ import annotations

import pytest

from app.config import WAREHOUSE_DIR
from app.demo.setup import install_demo
from app.demo.warehouse import build_warehouse
from tests.helpers import bearer, ok


@pytest.fixture(scope="session")
def gov_warehouse(tmp_path_factory):
    var = tmp_path_factory.mktemp("gov-demo-var")
    build_warehouse(var / WAREHOUSE_DIR / "demo.duckdb")
    return var


@pytest.fixture
async def demo(app, settings, gov_warehouse, admin_key):
    await install_demo(settings.model_copy(update={"var_dir": gov_warehouse}))


async def test_deprecated_warns_and_retired_is_gone(client, admin_key, demo):
    body = {"replacement": "sales.gmv", "sunset": "2027-01-01", "reason": "merged"}
    await ok(await client.post("/v1/metrics/sales.gmv_ytd/deprecate", json=body, headers=bearer(admin_key)))
    answer = await ok(await client.post("/v1/query", json={"metrics": ["sales.gmv_ytd"], "time": {"grain": "year"}}, headers=bearer(admin_key)))
    assert [(w["code"], w["replacement"]) for w in answer["warnings"]] == [("METRIC_DEPRECATED", "sales.gmv")]

    await ok(await client.post("/v1/metrics/sales.gmv_ytd/retire", json={"reason": "sunset"}, headers=bearer(admin_key)))
    gone = await client.post("/v1/query", json={"metrics": ["sales.gmv_ytd"], "time": {"grain": "year"}}, headers=bearer(admin_key))
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "METRIC_RETIRED"
    assert gone.json()["error"]["details"]["replacement"] == "sales.gmv"
