"""Webhook delivery: a background task polls the audit log after each subscription's progress,
queues one delivery per matching change, and sends it signed, retrying with exponential backoff.

Progress and the queue live in the registry, so deliveries survive restarts. One worker per
registry is assumed (several replicas would each deliver; see README).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

import httpx
from sqlalchemy import select

from app.db import Database, utcnow
from app.governance import changes
from app.governance.models import Webhook, WebhookDelivery
from app.governance.schemas import ChangeOut
from app import sealed
from app.governance.webhooks import SIGNATURE_HEADER, signature

log = logging.getLogger("yardstick.webhooks")


def matches(hook: Webhook, change: ChangeOut) -> bool:
    if hook.metric is not None:
        return change.kind == "metric" and change.key == hook.metric
    return hook.domain is None or change.domain == hook.domain


class WebhookWorker:
    def __init__(self, db: Database, secret_key: str, *, interval: float = 2.0, max_attempts: int = 6,
                 backoff: float = 2.0, timeout: float = 10.0, batch: int = 200) -> None:
        self.db, self.secret_key = db, secret_key
        self.interval, self.max_attempts, self.backoff, self.timeout, self.batch = interval, max_attempts, backoff, timeout, batch
        self._task: asyncio.Task | None = None

    async def enqueue(self) -> int:
        """Queue a delivery for every change after each active webhook's progress; advance it."""
        queued = 0
        async with self.db.session(write=True) as session:
            for hook in (await session.scalars(select(Webhook).where(Webhook.active.is_(True)))).all():
                found = await changes.after(session, hook.last_seq, self.batch)
                for change in found:
                    if matches(hook, change):
                        body = json.dumps(change.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
                        session.add(WebhookDelivery(webhook_id=hook.id, seq=change.seq, body=body, state="pending",
                                                    attempts=0, last_error="", next_attempt_at=utcnow(), created_at=utcnow()))
                        queued += 1
                if found:
                    hook.last_seq = found[-1].seq
        return queued

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """Send every pending delivery whose time has come, one attempt each; record the outcome."""
        async with self.db.session() as session:
            rows = (await session.execute(
                select(WebhookDelivery.id, WebhookDelivery.body, Webhook.url, Webhook.secret_encrypted)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= utcnow(), Webhook.active.is_(True))
                .order_by(WebhookDelivery.webhook_id, WebhookDelivery.seq).limit(self.batch)
            )).all()
        for row in rows:
            status, error = await self._send(client, row.url, sealed.unseal(row.secret_encrypted, self.secret_key, sealed.WEBHOOK_SECRET), row.id, row.body)
            await self._record(row.id, status, error)
        return len(rows)

    async def _send(self, client: httpx.AsyncClient, url: str, secret: str, delivery_id: int, body: str) -> tuple[int | None, str]:
        raw = body.encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, raw), "X-Yardstick-Delivery": str(delivery_id)}
        try:
            response = await client.post(url, content=raw, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as err:
            return None, f"{type(err).__name__}: {err}"[:500]
        return response.status_code, "" if response.is_success else f"HTTP {response.status_code}"

    async def _record(self, delivery_id: int, status: int | None, error: str) -> None:
        async with self.db.session(write=True) as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            delivery.attempts += 1
            delivery.last_status, delivery.last_error = status, error
            if not error:
                delivery.state, delivery.delivered_at = "delivered", utcnow()
            elif delivery.attempts >= self.max_attempts:
                delivery.state = "failed"
            else:
                delay = min(self.backoff * 2 ** (delivery.attempts - 1), 3600)
                delivery.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)

    async def run_once(self, client: httpx.AsyncClient) -> int:
        await self.enqueue()
        return await self.deliver_due(client)

    async def _loop(self) -> None:
        async with httpx.AsyncClient(follow_redirects=False) as client:
            while True:
                try:
                    await self.run_once(client)
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - the loop must outlive one bad tick
                    log.exception("webhook delivery tick failed")
                await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="yardstick-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None


def start(app) -> WebhookWorker | None:
    """Start the delivery task for an app (called from the lifespan), unless turned off."""
    if not app.state.settings.webhook_delivery:
        return None
    app.state.webhooks = WebhookWorker(app.state.db, app.state.settings.secret_key)
    app.state.webhooks.start()
    return app.state.webhooks


async def stop(app) -> None:
    worker = getattr(app.state, "webhooks", None)
    if worker is not None:
        await worker.stop()
