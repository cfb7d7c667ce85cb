"""Shared fixtures: a database on SQLite always and on PostgreSQL whenever
PESADESK_TEST_PG_URL is set, an app around it, a frozen clock, an admin key."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.db import migrate
from pesadesk.db.models import Base
from pesadesk.db.session import Database
from pesadesk.emulator.state import EmulatorConfig
from pesadesk.testing import FrozenClock, fresh_postgres_database
from pesadesk.testing.emulator import (
    CallbackSink,
    RunningEmulator,
    callback_sink,
    running_emulator,
)

PG_URL = os.environ.get("PESADESK_TEST_PG_URL")
# The shortcodes of Daraja's published samples (tests/fixtures/daraja), as this desk's own
# collection accounts, so the samples are money the desk takes (CONTRACT §9).
SAMPLE_ACCOUNTS = [
    {"name": f"sample-{code}", "shortcode": code, "kind": "paybill", "consumer_key": "sample",
     "consumer_secret": "sample"}
    for code in ("600966", "600984")
]  # fmt: skip
ADMIN_KEY = "test-admin-key-0123456789"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PESADESK_TEST_PG_URL is not set")
    with fresh_postgres_database(PG_URL) as url:
        db = Database(url)
        migrate.upgrade(db)
        db.dispose()
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "pesadesk.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_session_url")
    db = Database(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        security={"admin_api_key": ADMIN_KEY},  # type: ignore[arg-type]
        payments={"accounts": SAMPLE_ACCOUNTS},  # type: ignore[arg-type]
        log_json=False,
    )


@pytest.fixture
def client(settings: Settings, db: Database, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, db=db, clock=clock, background=False)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as test_client:
        yield test_client


# A live emulator and a callback sink on real loopback ports, shared by a test module and
# reset before every test (the Daraja client and emulator tests use them).
@pytest.fixture(scope="module")
def _emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(callback_delay_seconds=0.05)) as running:
        yield running


@pytest.fixture(scope="module")
def _sink() -> Iterator[CallbackSink]:
    with callback_sink() as running:
        yield running


@pytest.fixture
def emu(_emulator: RunningEmulator) -> RunningEmulator:
    """The shared emulator with its memory wiped."""
    _emulator.state.reset()
    return _emulator


@pytest.fixture
def sink(_sink: CallbackSink) -> CallbackSink:
    """The shared callback sink with nothing received yet."""
    with _sink._cond:
        _sink.received.clear()
    _sink.answers.clear()
    _sink.statuses.clear()
    return _sink


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
