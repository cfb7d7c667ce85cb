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
from pesadesk.api.deps import AppState
from pesadesk.config import Settings
from pesadesk.db.models import OutboxMessage
from pesadesk.db.session import Database
from pesadesk.notify.admins import WHATSAPP_TEXT
from pesadesk.testing import FrozenClock
from tests.conftest import ADMIN_KEY
from tests.helpers import pay
from tests.receiver import receiver

ADMINS = ["254700111111", "254700222222"]


@pytest.fixture
def desk(db_url: str, db: Database, clock: FrozenClock) -> Iterator[TestClient]:
    settings = Settings(
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
    app = create_app(settings, db=db, clock=clock, background=False)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


def _deliver_due(client: TestClient) -> None:
    """One pass of the worker over the due messages, without the periodic sweeps (they
    would ask Daraja); WhatsApp messages fail to send and stay queued."""
    state: AppState = client.app.state.pesadesk  # type: ignore[attr-defined]
    asyncio.run(state.require_runtime().worker.run_once(sweep=False))


def _whatsapp_texts(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(OutboxMessage.payload).where(OutboxMessage.kind == WHATSAPP_TEXT)
        ).scalars()
        return sorted((p["to"], p["body"]) for p in map(json.loads, rows))


def _fail_for(client: TestClient, clock: FrozenClock, hours: int) -> None:
    for _ in range(hours * 2):
        _deliver_due(client)
        clock.advance(minutes=30)


def test_three_days_of_failure_disable_the_endpoint_and_tell_the_admins(
    desk: TestClient, db: Database, clock: FrozenClock
) -> None:
    """Answering 500 for 71 h keeps it enabled; past 72 h it is disabled with a reason,
    each admin gets one WhatsApp message, and no more requests go out to it."""
    with receiver(plan=[500] * 10_000) as hooks:
        made = desk.post("/api/webhook-endpoints", json={"url": hooks.url, "events": ["*"]})
        endpoint = made.json()
        pay(desk, "100.00", "NOBODY")
        _fail_for(desk, clock, hours=71)
        assert desk.get(f"/api/webhook-endpoints/{endpoint['id']}").json()["enabled"] is True
        _fail_for(desk, clock, hours=3)
        state = desk.get(f"/api/webhook-endpoints/{endpoint['id']}").json()
        assert state["status"] == "disabled"
        assert state["disabled_reason"] == "failed for 3 days without a success"
        tries = len(hooks.all())
        pay(desk, "200.00", "NOBODY")  # a new event: not queued for a disabled endpoint
        _fail_for(desk, clock, hours=2)
        assert len(hooks.all()) == tries
    texts = _whatsapp_texts(db)
    assert [to for to, _ in texts] == ADMINS
    assert all(f"endpoint #{endpoint['id']}" in body and "127.0.0.1" in body for _, body in texts)
    assert 40 < tries < 120  # three retries in the first minute, then at most hourly


def test_a_re_enabled_endpoint_gets_new_events_again(
    desk: TestClient, db: Database, clock: FrozenClock
) -> None:
    """Disabled after three days, enabled by an admin: the next payment reaches it."""
    with receiver(plan=[500] * 10_000) as hooks:
        endpoint = desk.post("/api/webhook-endpoints",
                             json={"url": hooks.url, "events": ["*"]}).json()  # fmt: skip
        pay(desk, "100.00", "NOBODY")
        _fail_for(desk, clock, hours=75)
        hooks.plan.clear()
        enabled = desk.post(f"/api/webhook-endpoints/{endpoint['id']}/enable")
        assert enabled.json()["status"] == "enabled"
        pay(desk, "200.00", "NOBODY")
        _deliver_due(desk)
        [delivered] = hooks.accepted()
    assert json.loads(delivered.body)["data"]["amount"] == 200.0
