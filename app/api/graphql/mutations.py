"""Editor mutations: create and update datasets and metrics through the catalog service, one write unit each.

`expectedVersion` is the If-Match ETag `"N"` of REST, so a stale one meets the same STALE_VERSION
check; update answers a `StaleVersionError` result instead of the entity then (typed, not an error).
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.api.graphql.errors import StaleVersionError
from app.api.graphql.types import Dataset, Metric
from app.catalog import service as catalog
from app.catalog.kinds import DATASET, METRIC, Kind

ENTITY = {"dataset": Dataset, "metric": Metric}
MetricUpdate = Annotated[Metric | StaleVersionError, strawberry.union("MetricUpdateResult")]
DatasetUpdate = Annotated[Dataset | StaleVersionError, strawberry.union("DatasetUpdateResult")]


async def _create(info: Info, kind: Kind, definition: JSON, note: str):
    caller, note = info.context.caller, catalog.check_note(note)
    async with info.context.db.session(write=True) as session:
        out = await catalog.create(session, caller, kind, definition, note)
    return ENTITY[kind.name].from_out(out)


async def _update(info: Info, kind: Kind, key: str, patch: JSON, expected_version: int, note: str):
    caller, note = info.context.caller, catalog.check_note(note)
    async with info.context.db.session(write=True) as session:
        out, _changed = await catalog.update(
            session, caller, kind, key, patch, if_match=catalog.etag(expected_version), change_note=note,
        )
    return ENTITY[kind.name].from_out(out)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Register a metric (version 1); the same rules as POST /v1/metrics.")
    async def create_metric(self, info: Info, definition: JSON, change_note: str = "") -> Metric:
        return await _create(info, METRIC, definition, change_note)

    @strawberry.mutation(description="Register a dataset (version 1); the same rules as POST /v1/datasets.")
    async def create_dataset(self, info: Info, definition: JSON, change_note: str = "") -> Dataset:
        return await _create(info, DATASET, definition, change_note)

    @strawberry.mutation(description="Change a metric (JSON merge patch) if it is still at expectedVersion.")
    async def update_metric(self, info: Info, key: str, patch: JSON, expected_version: int, change_note: str = "") -> MetricUpdate:
        return await _update(info, METRIC, key, patch, expected_version, change_note)

    @strawberry.mutation(description="Change a dataset (JSON merge patch) if it is still at expectedVersion.")
    async def update_dataset(self, info: Info, key: str, patch: JSON, expected_version: int, change_note: str = "") -> DatasetUpdate:
        return await _update(info, DATASET, key, patch, expected_version, change_note)
