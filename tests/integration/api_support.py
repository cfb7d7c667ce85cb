"""Shared bits for the webhook-rule, API-convention and bad-input tests: apps built with
non-default settings, keys of each role, fixture payloads and database look-ups."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from pesadesk import cli
from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.db.models import LedgerEntry, Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from tests.conftest import ADMIN_KEY, SAMPLE_ACCOUNTS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "daraja"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
VALIDATION_ACCEPTED = {"ResultCode": "0", "ResultDesc": "Accepted"}
UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/nope"


def fixture_bytes(name: str) -> bytes:
    """A Daraja sample payload exactly as stored in tests/fixtures/daraja."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(fixture_bytes(name))
    return value


def settings_with(database_url: str, **overrides: Any) -> Settings:
    """Test settings (static admin key, plain logs) with some keys changed."""
    security = {"admin_api_key": ADMIN_KEY, **overrides.pop("security", {})}
    payments = {"accounts": SAMPLE_ACCOUNTS, **overrides.pop("payments", {})}
    return Settings(
        database_url=database_url, security=security, payments=payments, log_json=False,
        **overrides,
    )  # fmt: skip


@contextlib.contextmanager
def app_client(
    settings: Settings,
    db: Database | None,
    clock: Clock,
    *,
    raise_server_exceptions: bool = True,
    client_address: tuple[str, int] = ("testclient", 50000),
) -> Iterator[TestClient]:
    """A TestClient (admin key preset) around an app built from `settings`."""
    app = create_app(settings, db=db, clock=clock, background=False)
    with TestClient(
        app,
        headers=AUTH,
        raise_server_exceptions=raise_server_exceptions,
        client=client_address,
    ) as client:
        yield client


@contextlib.contextmanager
def plain_tracebacks() -> Iterator[None]:
    """Render logged exceptions as plain text while inside (the default rich renderer, with
    every local variable, takes seconds per 500 and would dominate the suite's runtime)."""
    saved = structlog.get_config()
    processors = list(saved["processors"])
    if processors and isinstance(processors[-1], structlog.dev.ConsoleRenderer):
        processors[-1] = structlog.dev.ConsoleRenderer(
            exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(processors=processors)
    try:
        yield
    finally:
        structlog.configure(**saved)


def run_cli(db_url: str, *args: str) -> Result:
    """Run the `pesadesk` CLI in-process against the test database (through
    PESADESK_DATABASE_URL); the CLI disposes of the engines it opened when a command ends."""
    return CliRunner().invoke(cli.app, list(args), env={"PESADESK_DATABASE_URL": db_url})


def make_key(client: TestClient, role: str, name: str | None = None) -> str:
    """A stored API key of `role`, made through POST /api/keys by the admin."""
    answer = client.post("/api/keys", json={"role": role, "name": name or f"{role}-key"})
    assert answer.status_code == 201, answer.text
    key: str = answer.json()["key"]
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def logs(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/webhooks/logs", params=params)
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def payment_count(db: Database) -> int:
    with db.read() as session:
        count: int = session.execute(select(func.count()).select_from(Payment)).scalar_one()
        return count


def ledger_row_count(db: Database) -> int:
    with db.read() as session:
        count: int = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
        return count


def log_rows(db: Database) -> list[WebhookLog]:
    with db.read() as session:
        return list(session.execute(select(WebhookLog).order_by(WebhookLog.id)).scalars())


def assert_ledger_ok(db: Database) -> None:
    with db.read() as session:
        report = verify(session)
    assert report.ok, report.problems


def assert_error_body(body: Any, code: str | None = None) -> None:
    """Every error is exactly `{"error": str, "code": str}`."""
    assert isinstance(body, dict), body
    assert set(body) == {"error", "code"}, body
    assert isinstance(body["error"], str), body
    assert body["error"], body
    assert isinstance(body["code"], str), body
    assert body["code"], body
    if code is not None:
        assert body["code"] == code, body
