"""A registry with the tiny warehouse's datasets and metrics, and keys for each role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.helpers import bearer, make_principal, ok
from tests.kpi import kpi_data


@pytest.fixture(scope="session")
def shop_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("shop") / "shop.duckdb"
    kpi_data.build(path)
    return path


@dataclass
class Keys:
    admin: str
    sales: str  # editor of sales
    service: str  # editor of service
    reader: str  # global reader


@pytest.fixture
async def keys(client, admin_key, shop_file) -> Keys:
    await kpi_data.register(client, admin_key, shop_file)
    return Keys(
        admin=admin_key,
        sales=await make_principal(client, admin_key, "sales_ed", [{"role": "editor", "domain": "sales"}]),
        service=await make_principal(client, admin_key, "service_ed", [{"role": "editor", "domain": "service"}]),
        reader=await make_principal(client, admin_key, "bi", [{"role": "reader", "domain": None}]),
    )


def target(metric: str, period: str, value: float, **extra) -> dict:
    return {"metric": metric, "period": period, "value": value, "owner": "alice", **extra}


async def put_targets(client, key: str, items: list[dict], status: int = 200, note: str = "plan") -> dict:
    return await ok(await client.put("/v1/targets", json={"targets": items, "change_note": note}, headers=bearer(key)), status)
