"""The callback paths are served in front of the routing and are not in the OpenAPI
document, so they are fuzzed here: random JSON, random bytes and C2B-shaped bodies whose
amount is nonsense, with the right token, a wrong one or none, some over the size limit.

Whatever arrives: the answer is 200, 403 or 413 (never a 5xx), one `webhook_logs` row is
kept per request, and no such body moves money (no payment, no ledger leg)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pesadesk.api.app import create_app
from pesadesk.api.webhooks import ROUTES
from pesadesk.config import Settings
from pesadesk.db.models import LedgerEntry, Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.testing import FrozenClock
from tests.conftest import ADMIN_KEY
from tests.helpers import c2b_body

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

TOKEN = "fuzz-webhook-token-0123456789"
BODY_LIMIT = 4096  # the smallest limit the settings allow, so that some bodies pass it
PATHS = sorted(ROUTES)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=15), inner, max_size=6)
    ),
    max_leaves=25,
)
# Amounts no C2B confirmation may be credited with.
bad_amounts = st.one_of(
    st.sampled_from(
        ["", "NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1", "0", "0.00", "-0.5"]
    ),
    st.sampled_from(["1_000", "1e3", "KES 100", "0x10", "1 000", " ", "100..0", "٣٠٠"]),
    st.text(alphabet="abcxyz!@#", min_size=1, max_size=8),
    st.integers(max_value=0),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def c2b_with_bad_amount(draw: st.DrawFn) -> bytes:
    body: dict[str, Any] = c2b_body("1.00", "NOBODY", txn=f"FZ{draw(st.integers(0, 10**8)):08d}")
    body["TransAmount"] = draw(bad_amounts)
    return json.dumps(body).encode()


bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=BODY_LIMIT + 1024),
    c2b_with_bad_amount(),
)
tokens = st.sampled_from([TOKEN, TOKEN, TOKEN, "wrong-token", None])


@pytest.fixture
def webhook_client(db_url: str, db: Database) -> Iterator[TestClient]:
    settings = Settings(
        database_url=db_url,
        max_webhook_body_bytes=BODY_LIMIT,
        security={"admin_api_key": ADMIN_KEY, "webhook_token": TOKEN},  # type: ignore[arg-type]
        log_json=False,
    )
    app = create_app(settings, db=db, clock=FrozenClock(), background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return (
            session.execute(select(func.count()).select_from(WebhookLog)).scalar_one(),
            session.execute(select(func.count()).select_from(Payment)).scalar_one(),
            session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one(),
        )


@settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(PATHS), raw=bodies, token=tokens)
def test_any_body_on_any_callback_path_is_kept_and_moves_no_money(
    webhook_client: TestClient, db: Database, path: str, raw: bytes, token: str | None
) -> None:
    """Random JSON or bytes to a callback path: 200/403/413, one log row, no money moved."""
    logs, payments, legs = _counts(db)
    answer = webhook_client.post(
        path,
        content=raw,
        params={"token": token} if token is not None else None,
        headers={"Content-Type": "application/json"},
    )
    expected = 200 if token == TOKEN else 403
    if token == TOKEN and len(raw) > BODY_LIMIT:
        expected = 413
    assert answer.status_code == expected, (path, raw[:200], answer.status_code, answer.text)
    assert _counts(db) == (logs + 1, payments, legs), (path, raw[:200])
