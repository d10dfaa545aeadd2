"""Every ORM model, imported once so the metadata (and alembic) sees the whole schema."""

from app.audit.models import AuditEvent, AuditHead
from app.auth.models import ApiKey, Domain, Principal, RoleGrant
from app.catalog.models import Deprecation, DomainPolicy, Entity, Revision
from app.db import Base
from app.governance.models import Proposal, Webhook, WebhookDelivery
from app.kpi.models import Review
from app.ops.models import IdempotencyRecord
from app.sources.models import Source

__all__ = [
    "ApiKey", "AuditEvent", "AuditHead", "Base", "Deprecation", "Domain", "DomainPolicy", "Entity", "IdempotencyRecord",
    "Principal", "Proposal", "Review", "Revision", "RoleGrant", "Source", "Webhook", "WebhookDelivery",
]
