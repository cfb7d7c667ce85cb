"""An endpoint that fails for three days is disabled once, the admins hear of it on
WhatsApp, its remaining deliveries stop; turned back on, it gets new events again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.core.retry import WEBHOOK_RETRY
from pesadesk.db.models import OutboxMessage
from pesadesk.db.session import Database
from pesadesk.events.delivery import WebhookSender
from pesadesk.events.fanout import WEBHOOK_DELIVERY
from pesadesk.notify.admins import WHATSAPP_TEXT
from pesadesk.outbox.worker import OutboxWorker
from pesadesk.testing import FrozenClock
from tests.conftest import ADMIN_KEY
from tests.helpers import pay
from tests.receiver import Receiver, receiver

ADMINS = ["254700111111", "254700222222"]


def _settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        admin_numbers=ADMINS,
        whatsapp={
            "enabled": True,
            "base_url": "http://127.0.0.1:9",
            "phone_number_id": "1",
            "access_token": "t",
        },
        security={"admin_api_key": ADMIN_KEY},  # type: ignore[arg-type]
        log_json=False,
    )


@pytest.fixture
def desk(db_url: str, db: Database, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(_settings(db_url), db=db, clock=clock, background=False)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


class Deliveries:
    """pesadesk's webhook sender under an outbox worker, driven pass by pass in one
    event loop (WhatsApp messages have no handler here and stay queued)."""

    def __init__(self, db: Database, db_url: str, clock: FrozenClock) -> None:
        self.clock = clock
        self.sender = WebhookSender(db, _settings(db_url), clock)
        self.worker = OutboxWorker(db, clock, {WEBHOOK_DELIVERY: self.sender},
                                   policies={WEBHOOK_DELIVERY: WEBHOOK_RETRY})  # fmt: skip

    async def fail_for(self, hours: int) -> None:
        for _ in range(hours * 2):
            await self.worker.run_once(sweep=False)
            self.clock.advance(minutes=30)


def _whatsapp_texts(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(OutboxMessage.payload).where(OutboxMessage.kind == WHATSAPP_TEXT)
        ).scalars()
        return sorted((p["to"], p["body"]) for p in map(json.loads, rows))


def test_three_days_of_failure_disable_the_endpoint_and_tell_the_admins(
    desk: TestClient, db: Database, db_url: str, clock: FrozenClock
) -> None:
    """Answering 500 for 71 h keeps it enabled; past 72 h it is disabled with a reason,
    each admin gets one WhatsApp message, and no more requests go out to it."""
    run = Deliveries(db, db_url, clock)

    async def scenario(hooks: Receiver) -> tuple[int, int]:
        made = desk.post("/api/webhook-endpoints", json={"url": hooks.url, "events": ["*"]})
        endpoint_id = made.json()["id"]
        await asyncio.to_thread(pay, desk, "100.00", "NOBODY")
        await run.fail_for(71)
        assert desk.get(f"/api/webhook-endpoints/{endpoint_id}").json()["enabled"] is True
        await run.fail_for(3)
        state = desk.get(f"/api/webhook-endpoints/{endpoint_id}").json()
        assert state["status"] == "disabled"
        assert state["disabled_reason"] == "failed for 3 days without a success"
        tries = len(hooks.all())
        await asyncio.to_thread(pay, desk, "200.00", "NOBODY")  # not queued for it
        await run.fail_for(2)
        assert len(hooks.all()) == tries
        await run.sender.aclose()
        return endpoint_id, tries

    with receiver(plan=[500] * 10_000) as hooks:
        endpoint_id, tries = asyncio.run(scenario(hooks))
    texts = _whatsapp_texts(db)
    assert [to for to, _ in texts] == ADMINS
    assert all(f"endpoint #{endpoint_id}" in body and "127.0.0.1" in body for _, body in texts)
    assert 40 < tries < 120  # three retries in the first minute, then at most hourly


def test_a_re_enabled_endpoint_gets_new_events_again(
    desk: TestClient, db: Database, db_url: str, clock: FrozenClock
) -> None:
    """Disabled after three days, enabled by an admin: the next payment reaches it."""
    run = Deliveries(db, db_url, clock)

    async def scenario(hooks: Receiver) -> None:
        made = desk.post("/api/webhook-endpoints", json={"url": hooks.url, "events": ["*"]})
        endpoint_id = made.json()["id"]
        await asyncio.to_thread(pay, desk, "100.00", "NOBODY")
        await run.fail_for(75)
        hooks.plan.clear()
        enabled = desk.post(f"/api/webhook-endpoints/{endpoint_id}/enable")
        assert enabled.json()["status"] == "enabled"
        await asyncio.to_thread(pay, desk, "200.00", "NOBODY")
        await run.worker.run_once(sweep=False)
        await run.sender.aclose()

    with receiver(plan=[500] * 10_000) as hooks:
        asyncio.run(scenario(hooks))
        [delivered] = hooks.accepted()
    assert json.loads(delivered.body)["data"]["amount"] == 200.0
