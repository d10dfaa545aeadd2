"""Webhook subscriptions: per domain or metric, a write-only secret kept encrypted, HMAC-signed bodies.

Editors of the domain subscribe to it (admins to every change); a subscription whose creator loses
that right is suspended at its next delivery. Receivers must be where webhooks may reach
(app/reach.py); URLs are answered and audited with their credentials redacted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import sealed
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.auth import service as auth
from app.auth.principal import Caller
from app.catalog import repository as repo
from app.db import utcnow
from app.errors import ErrorCode, Forbidden, Invalid, NotFound
from app.governance.models import Webhook, WebhookDelivery
from app.governance.schemas import DeliveryOut, WebhookIn, WebhookOut
from app.pagination import decode_cursor, next_cursor
from app.reach import Reach, Target
from app.sources.redaction import redact

SIGNATURE_HEADER = "X-Yardstick-Signature"
SUSPENDED = "suspended: its creator may no longer subscribe to these changes"


def signature(secret: str, body: bytes) -> str:
    """The X-Yardstick-Signature value: `sha256=` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def shown(url: str) -> str:
    """A receiver URL as answered and audited: user information and secret-looking parameters redacted."""
    return redact(url, keep_user=False)


def out(hook: Webhook) -> WebhookOut:
    return WebhookOut(id=hook.id, url=shown(hook.url), domain=hook.domain, metric=hook.metric, active=hook.active,
                      last_seq=hook.last_seq, created_by=hook.created_by, created_at=hook.created_at)


def may_subscribe(caller: Caller, domain: str | None) -> bool:
    """The one rule, at subscription and at every delivery: editors of the domain, admins for every change."""
    return caller.is_admin if domain is None else caller.can_edit(domain)


async def create(session: AsyncSession, caller: Caller, body: WebhookIn, secret_key: str, reach: Reach) -> WebhookOut:
    """Subscribe to future changes of a domain or a metric the caller edits (all changes: admins only)."""
    domain = body.domain
    if body.metric is not None:
        metric = await repo.entity(session, "metric", body.metric)
        if metric is None:
            raise Invalid(f"metric '{body.metric}' is not registered", pointer="/metric", code=ErrorCode.UNKNOWN_METRIC)
        if domain is not None and domain != metric.domain:
            raise Invalid(f"metric '{body.metric}' belongs to domain '{metric.domain}'", pointer="/domain", code=ErrorCode.INVALID_FIELD)
        domain = metric.domain
    if domain is None:
        caller.require_admin()
    else:
        await auth.require_domain(session, domain, "/domain")
        caller.require_edit(domain)
    await asyncio.to_thread(reach.check, Target(host=body.url.host or "", port=body.url.port), pointer="/url")
    now = utcnow()
    last = await session.scalar(select(func.max(AuditEvent.seq))) or 0
    hook = Webhook(url=str(body.url), secret_encrypted=sealed.seal(body.secret, secret_key, sealed.WEBHOOK_SECRET), domain=domain, metric=body.metric,
                   created_by=caller.name, active=True, last_seq=last, created_at=now)
    session.add(hook)
    await session.flush()
    await audit.record(session, actor=caller.name, action="webhook.create", entity_kind="webhook", entity_key=str(hook.id),
                       after={"url": shown(hook.url), "domain": domain, "metric": body.metric})
    return out(hook)


async def creator_may_deliver(session: AsyncSession, hook: Webhook) -> bool:
    caller = await auth.standing(session, hook.created_by)
    return caller is not None and may_subscribe(caller, hook.domain)


async def suspend(session: AsyncSession, hook: Webhook) -> None:
    """Stop a subscription whose creator lost the right: no more deliveries, the pending ones fail."""
    hook.active = False
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id, WebhookDelivery.state == "pending")
                          .values(state="failed", last_error=SUSPENDED))
    await session.flush()
    await audit.record(session, actor="system", action="webhook.suspend", entity_kind="webhook", entity_key=str(hook.id),
                       reason=f"its creator '{hook.created_by}' may no longer subscribe to these changes")


async def _owned(session: AsyncSession, caller: Caller, hook_id: int) -> Webhook:
    hook = await session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound(f"webhook {hook_id} not found", code=ErrorCode.WEBHOOK_NOT_FOUND)
    if hook.created_by != caller.name and not caller.is_admin:
        raise Forbidden("only its creator or an admin sees a webhook")
    return hook


async def listing(session: AsyncSession, caller: Caller) -> list[WebhookOut]:
    query = select(Webhook).order_by(Webhook.id)
    if not caller.is_admin:
        query = query.where(Webhook.created_by == caller.name)
    return [out(h) for h in (await session.scalars(query)).all()]


async def deactivate(session: AsyncSession, caller: Caller, hook_id: int) -> WebhookOut:
    hook = await _owned(session, caller, hook_id)
    if hook.active:
        hook.active = False
        await session.flush()
        await audit.record(session, actor=caller.name, action="webhook.delete", entity_kind="webhook", entity_key=str(hook.id))
    return out(hook)


async def deliveries(session: AsyncSession, caller: Caller, hook_id: int, *, cursor: str | None, limit: int) -> tuple[list[DeliveryOut], str | None]:
    await _owned(session, caller, hook_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook_id, WebhookDelivery.id > (decode_cursor(cursor, int) or 0))
        .order_by(WebhookDelivery.id).limit(limit)
    )
    rows = (await session.scalars(query)).all()
    items = [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]
    return items, next_cursor(items, limit, rows[-1].id if rows else None)
