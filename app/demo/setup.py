"""Install the demo: build the warehouse once, then register its source, domains, datasets and
metrics through the ordinary services (so the demo is validated, versioned and audited too)."""

from __future__ import annotations

from app.auth import service as auth
from app.auth.principal import Caller
from app.auth.schemas import DomainIn
from app.catalog import repository as repo
from app.catalog import service as catalog
from app.catalog.kinds import DATASET, METRIC
from app.config import Settings
from app.db import Database
from app.demo.library import DATASETS, METRICS, SOURCE
from app.demo.warehouse import build_warehouse
from app.sources import service as sources
from app.sources.schemas import SourceIn

LOADER = Caller(name="demo-loader", key_id="-", grants=frozenset({("admin", "*")}))
DOMAINS = {"sales": "Sales: orders, customers, collection.", "service": "Customer service: tickets, satisfaction."}


async def install_demo(settings: Settings) -> str:
    path = (settings.var_dir / "demo.duckdb").resolve()
    build_warehouse(path)
    db = Database(settings.database_url)
    created = 0
    try:
        async with db.session(write=True) as session:
            for name, description in DOMAINS.items():
                if not await auth.domain_exists(session, name):
                    await auth.create_domain(session, LOADER, DomainIn(name=name, description=description))
            if not await sources.source_exists(session, SOURCE):
                await sources.create_source(session, LOADER, SourceIn(name=SOURCE, url=f"duckdb://{path}", description="demo retail warehouse"), settings.secret_key)
            for kind, definitions, key_field in ((DATASET, DATASETS, "name"), (METRIC, METRICS, "key")):
                for definition in definitions:
                    if await repo.entity(session, kind.name, definition[key_field]) is None:
                        await catalog.create(session, LOADER, kind, definition, "demo library")
                        created += 1
    finally:
        await db.dispose()
    return f"demo warehouse at {path}; {created} definitions registered"
