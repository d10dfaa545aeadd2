"""Install the demo: build the warehouse once, then register its source, domains, datasets,
metrics, targets and scorecard through the ordinary services (so the demo is validated,
versioned and audited too)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.audit import service as audit
from app.auth import service as auth
from app.auth.principal import Caller
from app.auth.schemas import DomainIn
from app.catalog import repository as repo
from app.catalog import service as catalog
from app.catalog.kinds import DATASET, METRIC
from app.compiler.request import Filter, TimeRange
from app.config import Settings
from app.db import Database
from app.demo.library import DATASETS, METRICS, SCORECARD, SOURCE, TARGET_FACTORS, TARGET_PLANS, TARGET_YEARS, TARGETS_LEFT_OUT
from app.demo.warehouse import build_warehouse
from app.engines import EnginePool
from app.kpi import periods
from app.kpi import targets as kpi_targets
from app.kpi.answers import ANSWER_EXTRAS
from app.kpi.definitions import TargetIn
from app.kpi.kinds import SCORECARD as SCORECARD_KIND
from app.kpi.schemas import TargetBatch
from app.query.schemas import QueryRequest
from app.query.service import QueryService
from app.reach import Reach
from app.sources import service as sources
from app.sources.schemas import SourceIn

LOADER = Caller(name="demo-loader", key_id="-", grants=frozenset({("admin", "*")}))
DOMAINS = {"sales": "Sales: orders, customers, collection.", "service": "Customer service: tickets, satisfaction."}


def warehouse_path(settings: Settings) -> Path:
    """Where the demo warehouse lives: var/warehouse, a source data directory by default."""
    return (settings.warehouse_dir / "demo.duckdb").resolve()


async def install_demo(settings: Settings) -> str:
    path = warehouse_path(settings)
    build_warehouse(path)
    db = Database(settings.database_url, session_info=audit.session_info(settings))
    created = 0
    try:
        async with db.session(write=True) as session:
            for name, description in DOMAINS.items():
                if not await auth.domain_exists(session, name):
                    await auth.create_domain(session, LOADER, DomainIn(name=name, description=description))
            if not await sources.source_exists(session, SOURCE):
                await sources.create_source(session, LOADER, SourceIn(name=SOURCE, url=f"duckdb://{path}", description="demo retail warehouse"),
                                             settings.secret_key, Reach.for_sources(settings))
            for kind, definitions, key_field in ((DATASET, DATASETS, "name"), (METRIC, METRICS, "key")):
                for definition in definitions:
                    if await repo.entity(session, kind.name, definition[key_field]) is None:
                        await catalog.create(session, LOADER, kind, definition, "demo library")
                        created += 1
        created += await _install_kpis(db, settings)
    finally:
        await db.dispose()
    return f"demo warehouse at {path}; {created} definitions registered"


async def _actuals(queries: QueryService, metric: str, grain: str, scope: dict) -> dict[str, float]:
    """The metric's value per period of the demo years, keyed by period text."""
    request = QueryRequest(
        metrics=[metric], filters=[Filter(dimension=d, op="eq", values=[v]) for d, v in scope.items()],
        time=TimeRange(grain=grain, start=f"{TARGET_YEARS[0]}-01-01", end=f"{TARGET_YEARS[-1] + 1}-01-01"),
    )
    answer = await queries.resolve(LOADER, request)
    return {periods.containing(dt.date.fromisoformat(str(t)[:10]), grain).text: v for t, v in answer.rows if v is not None}


async def _install_kpis(db: Database, settings: Settings) -> int:
    """Targets derived from actual values × a rotating factor, and the company scorecard."""
    engines = EnginePool(Reach.for_sources(settings))
    queries = QueryService(db, engines, settings, extras=ANSWER_EXTRAS)
    items = []
    try:
        for plan, (metric, grain, scope, owner) in enumerate(TARGET_PLANS):
            direction = next(m.get("direction", "higher_is_better") for m in METRICS if m["key"] == metric)
            for i, (period, actual) in enumerate(sorted((await _actuals(queries, metric, grain, scope)).items())):
                factor = TARGET_FACTORS[(i + 2 * plan) % len(TARGET_FACTORS)]
                value = actual / factor if direction == "lower_is_better" else actual * factor
                if (metric, period) not in TARGETS_LEFT_OUT:
                    items.append(TargetIn(metric=metric, period=period, scope=scope, owner=owner,
                                          value=round(value, 4 if abs(value) < 100 else 0)))
    finally:
        await engines.close_all()
    async with db.session(write=True) as session:
        missing = [t for t in items if await repo.entity(session, "target", t.key) is None]
        if missing:
            await kpi_targets.set_targets(session, LOADER, TargetBatch(targets=missing, change_note="demo targets"))
        if await repo.entity(session, "scorecard", SCORECARD["name"]) is None:
            await catalog.create(session, LOADER, SCORECARD_KIND, SCORECARD, "demo scorecard")
            return len(missing) + 1
    return len(missing)
