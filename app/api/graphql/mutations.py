"""Catalog writes: create and update datasets, metrics and scorecards through the commands REST calls,
one write unit each; plus registering a domain.

An update is PATCH: the same command (`proposals.patch`), the same JSON merge patch and options.
`expectedVersion` is the If-Match ETag `"N"`, so a stale one meets the same STALE_VERSION check and
answers a `StaleVersionError` result; where the domain requires review the answer is the opened
`Proposal` (REST's 202), otherwise the new version.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.api.graphql.derive import derive
from app.api.graphql.errors import StaleVersionError
from app.api.graphql.governance import Proposal
from app.api.graphql.inputs import from_input
from app.api.graphql.kpi import Scorecard
from app.api.graphql.types import Dataset, Domain, Metric
from app.auth import service as auth
from app.auth.schemas import DomainIn
from app.catalog import duplicates
from app.catalog import service as catalog
from app.catalog.kinds import DATASET, METRIC, Kind
from app.catalog.schemas import EntityOut
from app.governance import proposals
from app.governance.schemas import ProposalOut
from app.kpi.kinds import SCORECARD

DatasetUpdate = Annotated[Dataset | Proposal | StaleVersionError, strawberry.union("DatasetUpdateResult")]
MetricUpdate = Annotated[Metric | Proposal | StaleVersionError, strawberry.union("MetricUpdateResult")]
ScorecardUpdate = Annotated[Scorecard | Proposal | StaleVersionError, strawberry.union("ScorecardUpdateResult")]
DomainInput = derive(DomainIn, input=True)
NOTE = "why; kept with the version and in the audit log"
STATUS = "published (default), or a draft edited freely until submitted (datasets and metrics)"
ALLOW = "accept a metric equivalent to an existing one; needs duplicateReason"


async def _create(info: Info, kind: Kind, definition: Any, note: str | None, status: str | None = None,
                  allow: bool | None = None, reason: str | None = None) -> EntityOut:
    """POST /v1/{kind}s: the body's definition, with its request-level options as arguments."""
    caller, note, allowed = info.context.caller, catalog.check_note(note), duplicates.allow_reason(allow, reason)
    async with info.context.db.session(write=True) as session:
        return await catalog.create(session, caller, kind, definition, note, status=status or "published", allow_duplicate=allowed)


async def _update(info: Info, kind: Kind, key: str, patch: Any, expected_version: int, note: str | None,
                  allow: bool | None = None, reason: str | None = None) -> EntityOut | ProposalOut:
    """PATCH /v1/{kind}s/{key} with If-Match: "expectedVersion"."""
    caller, note, allowed = info.context.caller, catalog.check_note(note), duplicates.allow_reason(allow, reason)
    async with info.context.db.session(write=True) as session:
        return await proposals.patch(session, caller, kind, key, patch, if_match=catalog.etag(expected_version),
                                     change_note=note, allow_duplicate=allowed)


Note = Annotated[str | None, strawberry.argument(description=NOTE)]
Status = Annotated[str | None, strawberry.argument(description=STATUS)]
Allow = Annotated[bool | None, strawberry.argument(description=ALLOW)]
Patch = Annotated[JSON, strawberry.argument(description="the fields to change (JSON merge patch: null removes a field)")]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Register a metric (version 1); the same rules as POST /v1/metrics.")
    async def create_metric(self, info: Info, definition: JSON, change_note: Note = "", status: Status = None,
                            allow_duplicate: Allow = None, duplicate_reason: str | None = None) -> Metric:
        return await _create(info, METRIC, definition, change_note, status, allow_duplicate, duplicate_reason)

    @strawberry.mutation(description="Register a dataset (version 1); the same rules as POST /v1/datasets.")
    async def create_dataset(self, info: Info, definition: JSON, change_note: Note = "", status: Status = None) -> Dataset:
        return await _create(info, DATASET, definition, change_note, status)

    @strawberry.mutation(description="Register a scorecard (version 1); the same rules as POST /v1/scorecards.")
    async def create_scorecard(self, info: Info, definition: JSON, change_note: Note = "") -> Scorecard:
        return await _create(info, SCORECARD, definition, change_note)

    @strawberry.mutation(description="Change a metric if it is still at expectedVersion: PATCH /v1/metrics/{key}.")
    async def update_metric(self, info: Info, key: str, patch: Patch, expected_version: int, change_note: Note = "",
                            allow_duplicate: Allow = None, duplicate_reason: str | None = None) -> MetricUpdate:
        return await _update(info, METRIC, key, patch, expected_version, change_note, allow_duplicate, duplicate_reason)

    @strawberry.mutation(description="Change a dataset if it is still at expectedVersion: PATCH /v1/datasets/{key}.")
    async def update_dataset(self, info: Info, key: str, patch: Patch, expected_version: int, change_note: Note = "") -> DatasetUpdate:
        return await _update(info, DATASET, key, patch, expected_version, change_note)

    @strawberry.mutation(description="Change a scorecard if it is still at expectedVersion: PATCH /v1/scorecards/{key}.")
    async def update_scorecard(self, info: Info, name: str, patch: Patch, expected_version: int, change_note: Note = "") -> ScorecardUpdate:
        return await _update(info, SCORECARD, name, patch, expected_version, change_note)

    @strawberry.mutation(description="Register a domain (admins; POST /v1/domains).")
    async def create_domain(self, info: Info, input: DomainInput) -> Domain:
        caller, body = info.context.caller, from_input(DomainIn, input)
        async with info.context.db.session(write=True) as session:
            return await auth.create_domain(session, caller, body)
