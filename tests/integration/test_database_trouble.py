"""PostgreSQL in trouble under a running desk.

A restart kills every connection, so that is what the restart tests do: the next callback
after a quiet spell must be stored on the first try, with no 503 (Safaricom never retries
an STK callback). A lock timeout while processing keeps the callback and the recovery loop
runs it again by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.db.models import Payment, WebhookLog
from pesadesk.db.session import PING_AFTER_IDLE_SECONDS, Database, normalize_url
from pesadesk.pipeline.rerun import recover_stranded
from pesadesk.pipeline.run import Pipeline
from pesadesk.testing import FrozenClock
from tests.conftest import ADMIN_KEY
from tests.helpers import CONFIRMATION, c2b_body, pay

pytestmark = pytest.mark.postgres


def kill_connections(url: str) -> int:
    """Terminate every other session on the database, as a server restart would."""
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        admin.dispose()
    return int(killed)


@pytest.fixture
def pg_only(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL restarts only")
    return db_url


def test_idle_connections_are_replaced_after_a_restart(pg_only: str, db: Database) -> None:
    """Pooled connections killed while idle: the next transaction gets a live one."""
    with db.write() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    assert kill_connections(pg_only) >= 1
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.1)
    with db.write() as session:
        assert session.execute(text("SELECT 2")).scalar_one() == 2
    with db.read() as session:
        assert session.execute(text("SELECT 3")).scalar_one() == 3


def test_callback_after_a_restart_is_stored_on_the_first_try(
    pg_only: str, client: TestClient
) -> None:
    """A confirmation, a restart, a quiet second, another confirmation: both land, once."""
    first = pay(client, "100.00", "NOBODY", txn="RST0001")
    assert kill_connections(pg_only) >= 1
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.1)
    second = pay(client, "250.00", "NOBODY", txn="RST0002")  # asserts a 200 answer
    assert (first["amount"], second["amount"]) == (100.0, 250.0)
    listed = client.get("/api/payments").json()  # the seed's shape: a bare list
    assert sorted(p["id"] for p in listed) == ["PAY-C2B-RST0001", "PAY-C2B-RST0002"]


@pytest.fixture
def impatient_db(pg_only: str) -> Iterator[Database]:
    """The desk's database with a 300 ms lock timeout, so a held lock fails fast."""
    db = Database(pg_only + "?options=-c%20lock_timeout%3D300")
    yield db
    db.dispose()


def test_callback_hitting_a_lock_timeout_is_run_again_by_itself(
    pg_only: str, impatient_db: Database, settings: Settings
) -> None:
    """Processing fails on a lock timeout: 200 all the same, the body kept with its error
    kind (transient) and a retry time, and the recovery pass credits it once when that
    time comes, with no person involved."""
    clock = FrozenClock()
    app = create_app(settings, db=impatient_db, clock=clock, background=False)
    blocker = create_engine(normalize_url(pg_only))
    try:
        with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
            with blocker.connect() as conn:
                conn.execute(text("LOCK TABLE payments IN EXCLUSIVE MODE"))  # no inserts
                answer = client.post(CONFIRMATION, json=c2b_body("300.00", "NOBODY", txn="LCK0001"))
                conn.rollback()
            assert answer.status_code == 200
            assert answer.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
            with impatient_db.read() as session:
                entry = session.execute(select(WebhookLog)).scalar_one()
                assert (entry.processed, entry.attempts, entry.error_kind) == (
                    False,
                    1,
                    "transient",
                )
                assert entry.next_attempt_at is not None
                assert "lock timeout" in (entry.error or "")
                assert "SQLSTATE 55P03" in (entry.error or "")
                for private in ("parameters", "LCK0001", "NICHOLAS"):  # no statement, no data
                    assert private not in (entry.error or ""), private
                assert session.execute(select(Payment)).first() is None
            clock.advance(seconds=10)
            settings_used = app.state.pesadesk.settings

            def recovery_pass() -> int:
                return recover_stranded(
                    Pipeline(impatient_db, settings_used, clock), older_than=timedelta(seconds=5)
                )

            assert [recovery_pass(), recovery_pass()] == [1, 0]  # credited once, then nothing
            payment = client.get("/api/payments/PAY-C2B-LCK0001").json()
            assert (payment["amount"], payment["status"]) == (300.0, "unallocated")
            with impatient_db.read() as session:
                entry = session.execute(select(WebhookLog)).scalar_one()
                assert (entry.processed, entry.attempts, entry.error) == (True, 2, None)
    finally:
        blocker.dispose()
