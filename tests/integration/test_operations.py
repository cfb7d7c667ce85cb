"""Operations: metrics from the database, request ids, the morning summary."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from pesadesk.config import Settings
from pesadesk.db.models import OutboxMessage
from pesadesk.db.session import Database
from pesadesk.notify.daily import queue_daily_summary
from pesadesk.testing import FrozenClock
from tests.helpers import CONFIRMATION, pay


def test_metrics_show_callbacks_and_money_by_status(client: TestClient) -> None:
    """/metrics counts callbacks by outcome and sums payments by status from the tables."""
    pay(client, "120.00", "NOBODY", txn="MET0001")
    pay(client, "120.00", "NOBODY", txn="MET0001")
    text = client.get("/metrics").text
    assert 'pesadesk_callbacks_total{outcome="ok",source="c2b_confirmation"} 1.0' in text
    assert 'pesadesk_callbacks_total{outcome="duplicate",source="c2b_confirmation"} 1.0' in text
    assert 'pesadesk_payments{source="c2b",status="unallocated"} 1.0' in text
    assert 'pesadesk_payments_amount_kes{source="c2b",status="unallocated"} 120.0' in text
    assert "pesadesk_callback_seconds_bucket" in text


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    """A given X-Request-ID comes back; without one, a fresh id is made."""
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["x-request-id"] != "x" * 500


def summary_settings(db_url: str, **whatsapp: object) -> Settings:
    return Settings.model_validate(
        {
            "database_url": db_url,
            "admin_numbers": ["0700111111", "0700222222"],
            "whatsapp": {"enabled": True, **whatsapp},
        }
    )


def queued_keys(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.execute(select(OutboxMessage.dedupe_key)).scalars().all())


def daily_text(db: Database) -> str:
    """The queued summary message (its JSON payload, which holds the text)."""
    with db.read() as session:
        payload = (
            session.execute(
                select(OutboxMessage.payload).where(OutboxMessage.dedupe_key.like("wa:daily:%"))
            )
            .scalars()
            .first()
        )
    return str(payload)


def test_morning_summary_is_queued_once_after_eight(
    client: TestClient, db: Database, db_url: str
) -> None:
    """Before 08:00 EAT nothing; after, one message per admin, and only once that day."""
    pay(client, "120.00", "NOBODY", txn="DAY0001")  # unallocated: a person must place it
    settings = summary_settings(db_url)
    early = FrozenClock(datetime(2026, 2, 7, 4, 30, tzinfo=UTC))  # 07:30 in Nairobi
    assert queue_daily_summary(db, settings=settings, clock=early) is False
    later = FrozenClock(datetime(2026, 2, 7, 5, 30, tzinfo=UTC))
    assert queue_daily_summary(db, settings=settings, clock=later) is True
    assert queue_daily_summary(db, settings=settings, clock=later) is False
    assert queued_keys(db) == [
        "wa:daily:2026-02-07:254700111111",
        "wa:daily:2026-02-07:254700222222",
    ]
    assert "Unallocated money: 1 payment(s), KES 120.00" in daily_text(db)


def test_morning_summary_stays_quiet_when_nothing_needs_a_person(db: Database, db_url: str) -> None:
    """An all-clear day sends nothing: no paid message that nobody acts on."""
    later = FrozenClock(datetime(2026, 2, 6, 9, 0, tzinfo=UTC))
    assert queue_daily_summary(db, settings=summary_settings(db_url), clock=later) is False
    assert queued_keys(db) == []


def test_morning_summary_waits_an_hour_before_reporting_fresh_money(
    client: TestClient, db: Database, db_url: str, clock: FrozenClock
) -> None:
    """Money and a failed callback that arrived minutes ago are on the dashboard, not yet
    in the summary; an hour later they are."""
    pay(client, "75.00", "NOBODY", txn="DAY0003")  # at 12:00 in Nairobi
    broken = client.post(
        CONFIRMATION, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 200  # stored, not processed
    settings = summary_settings(db_url, daily_summary_hour=12)
    clock.advance(minutes=59)
    assert queue_daily_summary(db, settings=settings, clock=clock) is False
    clock.advance(minutes=2)
    assert queue_daily_summary(db, settings=settings, clock=clock) is True
    text = daily_text(db)
    assert "Unallocated money: 1 payment(s), KES 75.00" in text
    assert "Callbacks not processed: 1" in text


def test_morning_summary_is_not_sent_late_in_the_day(
    client: TestClient, db: Database, db_url: str
) -> None:
    """Quiet at 08:00, something waiting by the evening: no summary at 23:00, the next
    morning's will tell."""
    pay(client, "90.00", "NOBODY", txn="DAY0004")
    evening = FrozenClock(datetime(2026, 2, 6, 20, 1, tzinfo=UTC))  # 23:01 in Nairobi
    assert queue_daily_summary(db, settings=summary_settings(db_url), clock=evening) is False
    next_morning = FrozenClock(datetime(2026, 2, 7, 5, 1, tzinfo=UTC))  # 08:01
    assert queue_daily_summary(db, settings=summary_settings(db_url), clock=next_morning)


def test_morning_summary_hour_is_configurable_and_can_be_off(
    client: TestClient, db: Database, db_url: str
) -> None:
    """`whatsapp.daily_summary_hour` moves the hour; null switches the summary off."""
    pay(client, "50.00", "NOBODY", txn="DAY0002")
    noon = FrozenClock(datetime(2026, 2, 7, 9, 0, tzinfo=UTC))  # 12:00 in Nairobi
    off = summary_settings(db_url, daily_summary_hour=None)
    assert queue_daily_summary(db, settings=off, clock=noon) is False
    late = summary_settings(db_url, daily_summary_hour=13)
    assert queue_daily_summary(db, settings=late, clock=noon) is False
    passed = summary_settings(db_url, daily_summary_hour=10)  # its window closed at 12:00
    assert queue_daily_summary(db, settings=passed, clock=noon) is False
    assert queued_keys(db) == []
    at_noon = summary_settings(db_url, daily_summary_hour=12)
    assert queue_daily_summary(db, settings=at_noon, clock=noon) is True
