"""CONTRACT §3 and the key/health rows of §4: authentication and roles, API keys, the
error body, list pagination and filters, CSV, and the health endpoints."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from pesadesk.db.models import ApiKey, WebhookLog
from pesadesk.db.session import Database
from pesadesk.testing import FrozenClock
from tests.conftest import ADMIN_KEY
from tests.helpers import CONFIRMATION, c2b_body, customer, invoice, pay
from tests.integration.api_support import (
    ACK,
    UNREACHABLE_PG,
    app_client,
    assert_error_body,
    bearer,
    make_key,
    plain_tracebacks,
    run_cli,
    settings_with,
)


def _set_clock(clock: FrozenClock, when: datetime) -> None:
    clock.advance(seconds=(when - clock.now()).total_seconds())


def _walk(client: TestClient, path: str, limit: int, **params: Any) -> list[list[Any]]:
    """Every page of a cursor-paginated list, following next_cursor to its null end."""
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        query: dict[str, Any] = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        answer = client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"data", "next_cursor"}
        pages.append(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str)
        assert len(pages) < 100, "pagination does not end"


# -- authentication and roles -----------------------------------------------------------


def test_missing_malformed_or_unknown_keys_are_401(client: TestClient) -> None:
    """No Authorization, a non-Bearer scheme, an empty or unknown key: 401 unauthenticated."""
    for headers in (
        {"Authorization": ""},
        {"Authorization": f"Basic {base64.b64encode(b'admin:admin').decode()}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer pd_not-a-real-key"},
        {"Authorization": ADMIN_KEY},
        {"Authorization": f"Bearer {ADMIN_KEY}x"},
    ):
        for method, path in (("GET", "/api/payments"), ("POST", "/api/customers"),
                             ("GET", "/api/webhooks/logs"), ("GET", "/api/keys")):  # fmt: skip
            answer = client.request(method, path, headers=headers, json={"name": "X"})
            assert answer.status_code == 401, (headers, path, answer.text)
            assert_error_body(answer.json(), "unauthenticated")
    assert client.get("/api/customers/CUST-001").status_code == 404  # nothing was created


def test_roles_viewer_reads_operator_writes_admin_manages_keys(client: TestClient) -> None:
    """viewer may read but not create (403); operator creates but may not manage keys or
    re-run callbacks (403); admin may do both."""
    viewer, operator = make_key(client, "viewer"), make_key(client, "operator")
    cust = customer(client)
    for key in (viewer, operator):
        assert client.get(f"/api/customers/{cust}", headers=bearer(key)).status_code == 200
        assert client.get("/api/payments", headers=bearer(key)).status_code == 200
        assert client.get("/api/invoices", headers=bearer(key)).status_code == 200
    writes = [
        ("/api/customers", {"name": "V", "phone": "0799000000"}),
        ("/api/invoices", {"customer_id": cust, "amount": 100}),
        ("/api/pos/sales", {"items": [{"product_id": "A", "product_name": "A", "quantity": 1,
                                       "unit_price": 5}]}),
    ]  # fmt: skip
    for path, body in writes:
        refused = client.post(path, json=body, headers=bearer(viewer))
        assert refused.status_code == 403, (path, refused.text)
        assert_error_body(refused.json(), "forbidden")
        allowed = client.post(path, json=body, headers=bearer(operator))
        assert allowed.status_code == 201, (path, allowed.text)
    for key in (viewer, operator):
        for method, path, body in (
            ("GET", "/api/keys", None),
            ("POST", "/api/keys", {"role": "admin", "name": "escalate"}),
            ("DELETE", "/api/keys/1", None),
        ):
            answer = client.request(method, path, json=body, headers=bearer(key))
            assert answer.status_code == 403, (method, path, answer.text)
            assert_error_body(answer.json(), "forbidden")
    assert [k["name"] for k in client.get("/api/keys").json()["data"]] == [
        "operator-key",
        "viewer-key",
    ]  # newest first, as every list
    admin = make_key(client, "admin")
    assert client.get("/api/keys", headers=bearer(admin)).status_code == 200
    made = client.post("/api/keys", json={"role": "viewer", "name": "n"}, headers=bearer(admin))
    assert made.status_code == 201


def test_keys_are_shown_once_listed_without_secret_and_revocable(
    client: TestClient, db: Database
) -> None:
    """POST /api/keys shows the key once; GET lists it without it; DELETE revokes it (then 401)."""
    made = client.post("/api/keys", json={"role": "operator", "name": "till-1"})
    assert made.status_code == 201, made.text
    created = made.json()
    key = created["key"]
    assert isinstance(key, str)
    assert len(key) >= 32
    assert (created["role"], created["name"], created["revoked_at"]) == ("operator", "till-1", None)
    assert client.get("/api/invoices", headers=bearer(key)).status_code == 200
    listing = client.get("/api/keys")
    assert listing.status_code == 200
    [entry] = listing.json()["data"]
    assert entry["id"] == created["id"]
    assert "key" not in entry
    assert "key_hash" not in entry
    assert key not in listing.text
    with db.read() as session:
        stored = session.execute(select(ApiKey)).scalar_one()
    assert stored.key_hash != key
    assert key not in stored.key_hash
    gone = client.delete(f"/api/keys/{created['id']}")
    assert gone.status_code == 204
    after = client.get("/api/invoices", headers=bearer(key))
    assert after.status_code == 401
    assert_error_body(after.json(), "unauthenticated")
    assert client.get("/api/keys").json()["data"][0]["revoked_at"] is not None
    again = client.delete(f"/api/keys/{created['id']}")
    assert again.status_code == 404
    assert_error_body(again.json(), "api_key_not_found")
    bad_role = client.post("/api/keys", json={"role": "root", "name": "x"})
    assert bad_role.status_code == 422
    assert_error_body(bad_role.json())


def test_cli_apikey_create_prints_a_working_key_alone_on_the_last_line(
    client: TestClient, db_url: str
) -> None:
    """`pesadesk apikey create` prints the key alone on stdout's last line; it works as a Bearer
    key."""
    result = run_cli(db_url, "apikey", "create", "--role", "operator", "--name", "cli bot")
    refused = run_cli(db_url, "apikey", "create", "--role", "superuser", "--name", "x")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    last = result.stdout.rstrip("\n").splitlines()[-1]
    assert last == last.strip()
    assert " " not in last
    created = client.post(
        "/api/customers", json={"name": "By CLI", "phone": "0799000000"}, headers=bearer(last)
    )
    assert created.status_code == 201, created.text
    assert client.get("/api/keys", headers=bearer(last)).status_code == 403  # operator only
    [listed] = client.get("/api/keys").json()["data"]
    assert (listed["name"], listed["role"]) == ("cli bot", "operator")
    assert refused.exit_code != 0
    assert len(client.get("/api/keys").json()["data"]) == 1


# -- error bodies -------------------------------------------------------------------------


def test_every_error_body_is_error_and_code(client: TestClient) -> None:
    """400, 401, 403, 404, 405, 409 and 422 answers all carry exactly {"error", "code"}."""
    viewer = make_key(client, "viewer")
    cust = customer(client)
    answers = {
        400: client.get("/api/invoices", params={"cursor": "%%%"}),
        401: client.get("/api/invoices", headers={"Authorization": "Bearer nope"}),
        403: client.post(
            "/api/customers", json={"name": "x", "phone": "0799000000"}, headers=bearer(viewer)
        ),
        404: client.get("/api/no/such/route"),
        405: client.delete("/api/customers"),
        409: client.post(
            "/api/customers", json={"name": "x", "phone": "0799000000", "customer_id": cust}
        ),
        422: client.get("/api/payments", params={"status": "nonsense"}),
    }
    for status, answer in answers.items():
        assert answer.status_code == status, (status, answer.text)
        assert answer.headers["content-type"].startswith("application/json")
        assert_error_body(answer.json())
    for name in ("status", "source", "method"):  # an unknown filter value is not "nothing"
        wrong = client.get("/api/payments", params={name: "bogus"})
        assert (wrong.status_code, name in wrong.json()["error"]) == (422, True), name


# -- lists: pagination --------------------------------------------------------------------


def test_invoices_paginate_to_a_null_cursor(client: TestClient) -> None:
    """GET /api/invoices?limit=2 over 5 invoices gives pages of 2, 2, 1, newest first, then null."""
    cust = customer(client)
    made = [invoice(client, cust, 100 + n)["invoice_id"] for n in range(5)]
    pages = _walk(client, "/api/invoices", 2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [inv["invoice_id"] for page in pages for inv in page] == made[::-1]
    everything = client.get("/api/invoices").json()
    assert (len(everything["data"]), everything["next_cursor"]) == (5, None)
    filtered = _walk(client, "/api/invoices", 2, customer_id=cust, status="unpaid")
    assert sum(len(p) for p in filtered) == 5
    assert client.get("/api/invoices", params={"status": "PAID"}).json()["data"] == []


def test_keys_paginate_to_a_null_cursor(client: TestClient) -> None:
    """GET /api/keys follows the list convention too: limit, cursor, newest first."""
    made = [client.post("/api/keys", json={"role": "viewer", "name": f"k{n}"}).json()["id"]
            for n in range(3)]  # fmt: skip
    pages = _walk(client, "/api/keys", 2)
    assert [[k["id"] for k in page] for page in pages] == [made[:0:-1], made[:1]]
    bad = client.get("/api/keys", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400


def test_webhook_logs_paginate_and_clamp_the_limit_to_500(client: TestClient, db: Database) -> None:
    """limit defaults to 50 and anything above 500 is served as 500; the last page's cursor is
    null."""
    now = datetime(2026, 2, 6, 9, 0, tzinfo=UTC)
    with db.write() as session:
        session.execute(
            insert(WebhookLog),
            [
                {"source": "c2b_confirmation", "raw_body": f'{{"n": {n}}}'.encode(),
                 "received_at": now, "processed": True, "is_duplicate": False,
                 "flagged": False, "attempts": 1}
                for n in range(503)
            ],
        )  # fmt: skip
    default = client.get("/api/webhooks/logs").json()
    assert len(default["data"]) == 50
    assert default["next_cursor"] is not None
    big = client.get("/api/webhooks/logs", params={"limit": 10_000})
    assert big.status_code == 200, big.text
    assert len(big.json()["data"]) == 500
    rest = client.get(
        "/api/webhooks/logs", params={"limit": 10_000, "cursor": big.json()["next_cursor"]}
    ).json()
    assert (len(rest["data"]), rest["next_cursor"]) == (3, None)
    seen = [e["raw_payload"] for e in big.json()["data"] + rest["data"]]
    assert sorted(json.loads(p)["n"] for p in seen) == list(range(503))
    for bad_limit in (0, -1):
        refused = client.get("/api/webhooks/logs", params={"limit": bad_limit})
        assert refused.status_code in (400, 422), refused.text
        assert_error_body(refused.json())


def test_payments_paginate_with_limit_and_cursor(client: TestClient, clock: FrozenClock) -> None:
    """GET /api/payments?limit= pages newest first without gaps or repeats, even when several
    payments share one instant, and ends with next_cursor null."""
    ids = []
    for n in range(7):
        if n % 3 == 0:
            clock.advance(minutes=1)
        ids.append(pay(client, "10", "NOBODY", txn=f"PAGE00000{n}")["id"])
    pages = _walk(client, "/api/payments", 2)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    walked = [p["id"] for page in pages for p in page]
    assert sorted(walked) == sorted(ids)
    assert len(set(walked)) == 7
    created = [p["created_at"] for page in pages for p in page]
    assert created == sorted(created, reverse=True)
    assert len(client.get("/api/payments", params={"limit": 10_000}).json()["data"]) == 7


def test_garbage_cursors_are_400(client: TestClient) -> None:
    """A cursor pesadesk did not make (not base64, not JSON, not a list) answers 400
    invalid_cursor."""
    for cursor in ("garbage", "%%%", "eyJhIjoxfQ", base64.urlsafe_b64encode(b"[]").decode()):
        for path in ("/api/invoices", "/api/webhooks/logs", "/api/payments"):
            answer = client.get(path, params={"cursor": cursor, "limit": 5})
            assert answer.status_code == 400, (path, cursor, answer.text)
            assert_error_body(answer.json(), "invalid_cursor")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # parsing only: one backend
def test_well_formed_but_foreign_cursors_are_400_not_500(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """A cursor that decodes to a JSON list of the wrong shape (["zzz"], [1]) is still a client
    error: 400 invalid_cursor, never a 500."""
    foreign = [base64.urlsafe_b64encode(json.dumps(v).encode()).decode() for v in (["zzz"], [1])]
    with (
        plain_tracebacks(),
        app_client(settings_with(db_url), db, clock, raise_server_exceptions=False) as client,
    ):
        answers = {
            (path, cursor): client.get(path, params={"cursor": cursor, "limit": 5})
            for cursor in foreign
            for path in ("/api/invoices", "/api/webhooks/logs", "/api/payments")
        }
    statuses = {where: answer.status_code for where, answer in answers.items()}
    assert all(status in (200, 400) for status in statuses.values()), statuses
    for answer in answers.values():
        if answer.status_code == 400:
            assert_error_body(answer.json(), "invalid_cursor")


# -- payments: plain array, CSV, filters -----------------------------------------------


def _payments(client: TestClient, **params: Any) -> list[str]:
    answer = client.get("/api/payments", params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, list), body
    return sorted(p["id"] for p in body)


def test_payments_without_limit_is_a_plain_array_and_csv_has_a_header(
    client: TestClient,
) -> None:
    """GET /api/payments (no limit/cursor) is the seed's plain JSON array; ?format=csv is CSV
    with a header row and one line per payment."""
    assert client.get("/api/payments").json() == []
    empty_csv = client.get("/api/payments", params={"format": "csv"})
    assert empty_csv.status_code == 200
    assert empty_csv.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(empty_csv.text)))
    assert {"id", "amount", "status", "receipt", "created_at"} <= set(header)
    cust = customer(client)
    inv = invoice(client, cust, 300)
    pay(client, "300.00", inv["invoice_id"], txn="CSV0000001")
    pay(client, "45.50", "NOWHERE, LTD", txn="CSV0000002")
    listed = client.get("/api/payments")
    assert listed.headers["content-type"].startswith("application/json")
    assert sorted(p["id"] for p in listed.json()) == ["PAY-C2B-CSV0000001", "PAY-C2B-CSV0000002"]
    as_csv = client.get("/api/payments", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 2
    by_id = {r["id"]: r for r in rows}
    assert by_id["PAY-C2B-CSV0000002"]["reference"] == "NOWHERE, LTD"
    assert float(by_id["PAY-C2B-CSV0000002"]["amount"]) == 45.5
    assert by_id["PAY-C2B-CSV0000001"]["status"] == "completed"
    assert by_id["PAY-C2B-CSV0000001"]["created_at"] == "2026-02-06 12:00:00"
    wrong = client.get("/api/payments", params={"format": "xml"})
    assert wrong.status_code == 422
    assert_error_body(wrong.json())


def test_payment_filters_use_whole_east_africa_days(client: TestClient, clock: FrozenClock) -> None:
    """from/to=YYYY-MM-DD are whole Nairobi days (`to` inclusive); status and source filter too."""
    cust = customer(client)
    inv = invoice(client, cust, 100)
    moments = {
        "EAT5LATE01": datetime(2026, 2, 5, 20, 59, tzinfo=UTC),  # 23:59 EAT on the 5th
        "EAT6EARLY1": datetime(2026, 2, 5, 21, 30, tzinfo=UTC),  # 00:30 EAT on the 6th
        "EAT6LATE01": datetime(2026, 2, 6, 20, 59, 59, tzinfo=UTC),  # 23:59:59 EAT, 6th
        "EAT7EARLY1": datetime(2026, 2, 6, 21, 0, tzinfo=UTC),  # 00:00 EAT on the 7th
    }
    for txn, when in moments.items():
        _set_clock(clock, when)
        ref = inv["invoice_id"] if txn == "EAT6EARLY1" else "NOBODY"
        paid = (when + timedelta(hours=3)).strftime("%Y%m%d%H%M%S")  # M-Pesa's time, EAT
        pay(client, "100", ref, txn=txn, trans_time=paid)
    p = {txn: f"PAY-C2B-{txn}" for txn in moments}
    assert _payments(client, **{"from": "2026-02-06", "to": "2026-02-06"}) == sorted(
        [p["EAT6EARLY1"], p["EAT6LATE01"]]
    )
    assert _payments(client, to="2026-02-05") == [p["EAT5LATE01"]]
    assert _payments(client, **{"from": "2026-02-07"}) == [p["EAT7EARLY1"]]
    assert _payments(client, **{"from": "2026-02-05", "to": "2026-02-07"}) == sorted(p.values())
    assert _payments(client, **{"from": "2026-02-06T21:00:00+00:00"}) == [p["EAT7EARLY1"]]
    assert _payments(client, status="completed") == [p["EAT6EARLY1"]]
    assert len(_payments(client, status="unallocated")) == 3
    assert len(_payments(client, source="c2b")) == 4
    assert _payments(client, source="stk") == []
    assert _payments(client, method="mpesa", status="completed", to="2026-02-06") == [
        p["EAT6EARLY1"]
    ]
    paged = client.get("/api/payments", params={"from": "2026-02-06", "to": "2026-02-06",
                                                "limit": 1}).json()  # fmt: skip
    assert len(paged["data"]) == 1
    assert paged["next_cursor"] is not None
    as_csv = client.get("/api/payments", params={"format": "csv", "to": "2026-02-05"}).text
    assert [r["id"] for r in csv.DictReader(io.StringIO(as_csv))] == [p["EAT5LATE01"]]
    for bad in ({"from": "yesterday"}, {"to": "2026-13-01"}, {"status": "paid"}):
        answer = client.get("/api/payments", params=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert_error_body(answer.json())


# -- health, readiness, metrics ---------------------------------------------------------


def test_health_ready_and_metrics(client: TestClient) -> None:
    """/healthz and /readyz answer 200 without a key; /metrics is Prometheus text counting
    callbacks."""
    del client.headers["Authorization"]
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert client.post(CONFIRMATION, json=c2b_body("10", "NOBODY")).json() == ACK
    assert client.post(CONFIRMATION, content=b"{oops").json() == ACK
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert "# TYPE pesadesk_callbacks_total counter" in text
    assert 'pesadesk_callbacks_total{outcome="ok",source="c2b_confirmation"} 1.0' in text
    assert 'pesadesk_callbacks_total{outcome="error",source="c2b_confirmation"} 1.0' in text


def test_readyz_is_503_when_the_database_is_unreachable(clock: FrozenClock) -> None:
    """With the database unreachable /readyz is 503 while /healthz (liveness) stays 200."""
    with app_client(settings_with(UNREACHABLE_PG), None, clock) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert_error_body(ready.json())


def test_api_answers_503_when_the_database_is_unreachable(clock: FrozenClock) -> None:
    """Every API read, the streamed payment list included, is 503 storage_unavailable when the
    database is down, never a 200 with an empty or cut-off body."""
    with (
        plain_tracebacks(),
        app_client(
            settings_with(UNREACHABLE_PG), None, clock, raise_server_exceptions=False
        ) as client,
    ):
        for path in ("/api/invoices", "/api/webhooks/logs", "/api/payments?limit=5",
                     "/api/payments", "/api/payments?format=csv"):  # fmt: skip
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.status_code, answer.text)
            assert_error_body(answer.json(), "storage_unavailable")
        stored_key = client.get("/api/invoices", headers=bearer("pd_some-stored-key"))
        assert stored_key.status_code == 503
        assert_error_body(stored_key.json(), "storage_unavailable")


def test_times_move_with_the_clock_in_eat(client: TestClient, clock: FrozenClock) -> None:
    """Payment created_at is the receiving instant in EAT: 21:30 UTC shows as the next day 00:30."""
    _set_clock(clock, datetime(2026, 2, 6, 21, 30, tzinfo=UTC))
    payment = pay(client, "10", "NOBODY", txn="TIMES00001")
    assert payment["created_at"] == "2026-02-07 00:30:00"
    clock.advance(seconds=90)
    logged = client.get("/api/webhooks/logs").json()["data"][0]
    received = datetime.fromisoformat(logged["received_at"])
    assert received.utcoffset() is not None
    assert received == datetime(2026, 2, 6, 21, 30, tzinfo=UTC)
    assert received + timedelta(seconds=90) == clock.now()
