"""Webhook delivery: a background task polls the audit log after each subscription's progress,
queues one delivery per matching change, and sends it signed, retrying with exponential backoff.

Each subscription has its own lane: its deliveries are sent one at a time in change order, while
other subscriptions' lanes run alongside, so a slow receiver delays only itself (each attempt has
a time limit; a retry may arrive after later changes, the body carries `seq`). Before a lane
starts, its creator's right to subscribe is checked again; a subscription that lost it is
suspended. Progress and the queue live in the registry, so deliveries survive restarts. One
worker per registry is assumed (several replicas would each deliver; see README).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable

import httpx
from sqlalchemy import select

from app import sealed
from app.config import Settings
from app.db import Database, utcnow
from app.governance import changes, webhooks
from app.governance.models import Webhook, WebhookDelivery
from app.governance.receivers import receiver_client
from app.governance.schemas import ChangeOut
from app.governance.webhooks import SIGNATURE_HEADER, signature
from app.reach import Reach

log = logging.getLogger("yardstick.webhooks")

Clock = Callable[[], dt.datetime]


def matches(hook: Webhook, change: ChangeOut) -> bool:
    if hook.metric is not None:
        return change.kind == "metric" and change.key == hook.metric
    return hook.domain is None or change.domain == hook.domain


class WebhookWorker:
    """Enqueues and delivers; `clock` says when retries fall due (tests move it instead of waiting)."""

    def __init__(self, db: Database, secret_key: str, reach: Reach, *, interval: float = 2.0, max_attempts: int = 6,
                 backoff: float = 2.0, timeout: float = 10.0, batch: int = 200, follow_redirects: bool = False,
                 clock: Clock = utcnow) -> None:
        self.db, self.secret_key, self.clock = db, secret_key, clock
        self.interval, self.max_attempts, self.backoff, self.timeout, self.batch = interval, max_attempts, backoff, timeout, batch
        self.client = receiver_client(reach, timeout=timeout, follow_redirects=follow_redirects)
        self._lanes: dict[int, asyncio.Task[int]] = {}
        self._task: asyncio.Task | None = None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, **options) -> WebhookWorker:
        return cls(db, settings.secret_key, Reach.for_webhooks(settings), timeout=settings.webhook_timeout_seconds,
                   follow_redirects=settings.webhook_follow_redirects, **options)

    async def enqueue(self) -> int:
        """Queue a delivery for every change after each active webhook's progress; advance it."""
        queued = 0
        async with self.db.session(write=True) as session:
            for hook in (await session.scalars(select(Webhook).where(Webhook.active.is_(True)))).all():
                found = await changes.after(session, hook.last_seq, self.batch)
                for change in found:
                    if matches(hook, change):
                        body = json.dumps(change.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
                        now = self.clock()
                        session.add(WebhookDelivery(webhook_id=hook.id, seq=change.seq, body=body, state="pending",
                                                    attempts=0, last_error="", next_attempt_at=now, created_at=now))
                        queued += 1
                if found:
                    hook.last_seq = found[-1].seq
        return queued

    async def dispatch(self) -> list[asyncio.Task[int]]:
        """Start a lane for every subscription with deliveries due and no lane running; suspend, instead,
        each whose creator may no longer subscribe. Answers the lanes started."""
        due = select(WebhookDelivery.webhook_id).where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= self.clock())
        allowed, lost = [], []
        async with self.db.session() as session:
            hooks = (await session.scalars(select(Webhook).where(Webhook.active.is_(True), Webhook.id.in_(due)).order_by(Webhook.id))).all()
            for hook in (h for h in hooks if h.id not in self._lanes):
                (allowed if await webhooks.creator_may_deliver(session, hook) else lost).append(hook.id)
        if lost:
            async with self.db.session(write=True) as session:
                for hook_id in lost:
                    await webhooks.suspend(session, await session.get(Webhook, hook_id))
        return [self._start_lane(hook_id) for hook_id in allowed]

    def _start_lane(self, hook_id: int) -> asyncio.Task[int]:
        task = asyncio.create_task(self._lane(hook_id), name=f"yardstick-webhook-{hook_id}")
        self._lanes[hook_id] = task
        task.add_done_callback(lambda _: self._lanes.pop(hook_id, None))
        return task

    async def _lane(self, hook_id: int) -> int:
        """Send one subscription's due deliveries in change order, one attempt each; answers how many."""
        async with self.db.session() as session:
            hook = await session.get(Webhook, hook_id)
            rows = (await session.execute(
                select(WebhookDelivery.id, WebhookDelivery.body)
                .where(WebhookDelivery.webhook_id == hook_id, WebhookDelivery.state == "pending",
                       WebhookDelivery.next_attempt_at <= self.clock())
                .order_by(WebhookDelivery.seq).limit(self.batch)
            )).all()
        secret = sealed.unseal(hook.secret_encrypted, self.secret_key, sealed.WEBHOOK_SECRET)
        for row in rows:
            status, error = await self._send(hook.url, secret, row.id, row.body)
            await self._record(row.id, status, error)
        return len(rows)

    async def _send(self, url: str, secret: str, delivery_id: int, body: str) -> tuple[int | None, str]:
        raw = body.encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, raw), "X-Yardstick-Delivery": str(delivery_id)}
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.post(url, content=raw, headers=headers)
        except TimeoutError:
            return None, f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as err:
            return None, f"{type(err).__name__}: {err}"[:500]
        if response.is_success:
            return response.status_code, ""
        return response.status_code, f"HTTP {response.status_code}" + (" (redirects are not followed)" if response.is_redirect else "")

    async def _record(self, delivery_id: int, status: int | None, error: str) -> None:
        async with self.db.session(write=True) as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            delivery.attempts += 1
            delivery.last_status, delivery.last_error = status, error
            if not error:
                delivery.state, delivery.delivered_at = "delivered", self.clock()
            elif delivery.attempts >= self.max_attempts:
                delivery.state = "failed"
            else:
                delay = min(self.backoff * 2 ** (delivery.attempts - 1), 3600)
                delivery.next_attempt_at = self.clock() + dt.timedelta(seconds=delay)

    async def run_once(self) -> int:
        """One tick that waits for the lanes it starts: the attempts made."""
        await self.enqueue()
        return sum(await asyncio.gather(*await self.dispatch()))

    async def _loop(self) -> None:
        while True:
            try:
                await self.enqueue()
                await self.dispatch()  # lanes run on; the next tick skips subscriptions still sending
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must outlive one bad tick
                log.exception("webhook delivery tick failed")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="yardstick-webhooks")

    async def stop(self) -> None:
        """Stop the loop and every lane, and close the client."""
        tasks = [t for t in (self._task, *self._lanes.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        await self.client.aclose()


def start(app) -> WebhookWorker | None:
    """Start the delivery task for an app (called from the lifespan), unless turned off."""
    if not app.state.settings.webhook_delivery:
        return None
    app.state.webhooks = WebhookWorker.from_settings(app.state.db, app.state.settings)
    app.state.webhooks.start()
    return app.state.webhooks


async def stop(app) -> None:
    worker = getattr(app.state, "webhooks", None)
    if worker is not None:
        await worker.stop()
