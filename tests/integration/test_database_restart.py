"""PostgreSQL restarts under a running desk: what a restart does to clients is kill every
connection, so that is what these tests do. The next callback after a quiet spell must be
stored on the first try, with no 503 (Safaricom never retries an STK callback)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from pesadesk.db.session import PING_AFTER_IDLE_SECONDS, Database, normalize_url
from tests.helpers import pay

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
