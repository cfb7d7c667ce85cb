"""CONTRACT §5 rules 1-5, 8 and 9 for the C2B webhooks: store first, answer 200 once
stored and 503 when not, re-run failures once, recover stranded callbacks, refuse
callers that lack the token or the address, validate accounts and amounts."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.core.phone import phone_hash
from pesadesk.core.statuses import WebhookSource
from pesadesk.db.models import WebhookLog
from pesadesk.db.session import Database
from pesadesk.pipeline import registry
from pesadesk.pipeline.rerun import failed_log_ids, recover_stranded
from pesadesk.pipeline.run import Pipeline
from pesadesk.testing import FrozenClock, serve_in_thread
from tests.helpers import CONFIRMATION, c2b_body, customer, invoice, pay
from tests.integration.api_support import (
    ACK,
    AUTH,
    UNREACHABLE_PG,
    VALIDATION_ACCEPTED,
    app_client,
    assert_error_body,
    assert_ledger_ok,
    bearer,
    fixture_bytes,
    fixture_json,
    ledger_row_count,
    log_rows,
    logs,
    make_key,
    payment_count,
    run_cli,
    settings_with,
)

VALIDATION = "/api/webhooks/c2b/validation"
SEED_CONFIRMATION = "/api/webhooks/mpesa"
SEED_PAYMENT_KEYS = {
    "id", "order_id", "amount", "currency", "method", "status", "phone", "reference",
    "provider_ref", "receipt", "source", "created_at", "updated_at",
}  # fmt: skip


class _Failing:
    """A confirmation handler that does all the real work and then blows up."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def external_id(self, message: Any) -> Any:
        return self.real.external_id(message)

    def plan(self, session: Any, message: Any) -> Any:
        return self.real.plan(session, message)

    def apply(self, session: Any, message: Any, plan: Any, ctx: Any) -> Any:
        self.real.apply(session, message, plan, ctx)
        raise RuntimeError("simulated crash after the payment was written")


def _send_failing_confirmation(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any]
) -> dict[str, Any]:
    """Post `body` while processing is broken; return its log entry."""
    real = registry.HANDLERS[WebhookSource.C2B_CONFIRMATION]
    with monkeypatch.context() as patch:
        patch.setitem(registry.HANDLERS, WebhookSource.C2B_CONFIRMATION, _Failing(real))
        answer = client.post(CONFIRMATION, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == ACK
    entry = logs(client)[0]
    assert entry["processed"] is False
    assert "simulated crash" in entry["error"]
    return entry


# -- rule 1: the raw body first, 200 once stored, 503 when it cannot be -----------------


def test_raw_body_is_logged_verbatim_and_served_back(client: TestClient, db: Database) -> None:
    """The exact bytes Safaricom sent (spacing, key order, non-ASCII) come back as raw_payload."""
    cust = customer(client)
    inv = invoice(client, cust, 700)
    body = (
        '{ "TransID":"RAW0000001",  "TransAmount" : "700.00",\n'
        f'  "BillRefNumber": "{inv["invoice_id"]}", "MSISDN": "2547 ***** 126",\n'
        '  "FirstName": "Wanjirũ", "TransTime": "20260206121325", "Extra": [1, 2.50] }'
    ).encode()
    answer = client.post(CONFIRMATION, content=body, headers={"content-type": "application/json"})
    assert (answer.status_code, answer.json()) == (200, ACK)
    [entry] = logs(client)
    assert entry["raw_payload"] == body.decode()
    assert entry["source"] == "c2b_confirmation"
    assert (entry["processed"], entry["is_duplicate"], entry["flagged"], entry["error"]) == (
        True,
        False,
        False,
        None,
    )
    assert entry["received_at"].startswith("2026-02-06T09:00:00")
    [row] = log_rows(db)
    assert row.raw_body == body
    assert client.get("/api/payments/PAY-C2B-RAW0000001").json()["status"] == "completed"


def test_processing_failure_still_answers_200_and_moves_no_money(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Processing that fails after it began is rolled back whole; the body is kept, 200 sent."""
    cust = customer(client)
    inv = invoice(client, cust, 1000)
    ledger_rows = ledger_row_count(db)
    body = c2b_body("1000.00", inv["invoice_id"], txn="FAIL000001")
    entry = _send_failing_confirmation(client, monkeypatch, body)
    assert json.loads(entry["raw_payload"]) == body
    assert entry["attempts"] == 1
    assert payment_count(db) == 0
    assert ledger_row_count(db) == ledger_rows
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "UNPAID"
    assert client.get("/api/payments/PAY-C2B-FAIL000001").status_code == 404
    assert_ledger_ok(db)


def test_database_down_answers_503_and_the_retry_is_not_lost(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    """With the database unreachable the callback gets 503; Safaricom's retry then lands once."""
    cust = customer(client)
    inv = invoice(client, cust, 400)
    body = c2b_body("400.00", inv["invoice_id"], txn="DOWN000001")
    down = settings_with(UNREACHABLE_PG)
    with app_client(down, None, clock) as dead:
        for path in (CONFIRMATION, SEED_CONFIRMATION, VALIDATION):
            answer = dead.post(path, json=body)
            assert answer.status_code == 503, (path, answer.text)
            assert_error_body(answer.json(), "storage_unavailable")
    assert payment_count(db) == 0
    for _ in range(2):  # Safaricom retries; the second retry is a duplicate
        assert client.post(CONFIRMATION, json=body).json() == ACK
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["amount_paid"] == 400.0
    assert payment_count(db) == 1
    assert_ledger_ok(db)


# -- rule 3: re-running failures, recovering stranded callbacks ------------------------


def test_reprocess_after_failure_credits_exactly_once(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed callback re-run by an admin credits once; a second re-run answers reprocessed
    false."""
    cust = customer(client)
    inv = invoice(client, cust, 1000)
    body = c2b_body("600.00", inv["invoice_id"], txn="REDO000001")
    entry = _send_failing_confirmation(client, monkeypatch, body)
    first = client.post(f"/api/webhooks/logs/{entry['id']}/reprocess")
    assert first.status_code == 200, first.text
    assert first.json()["reprocessed"] is True
    payment = client.get("/api/payments/PAY-C2B-REDO000001").json()
    assert (payment["status"], payment["amount"]) == ("completed", 600.0)
    again = client.post(f"/api/webhooks/logs/{entry['id']}/reprocess")
    assert again.status_code == 200, again.text
    assert again.json()["reprocessed"] is False
    # Safaricom's own retry of the same callback is a duplicate, not a second credit.
    assert client.post(CONFIRMATION, json=body).json() == ACK
    after = client.get(f"/api/invoices/{inv['invoice_id']}").json()
    assert (after["amount_paid"], after["status"]) == (600.0, "PARTIALLY_PAID")
    [processed_first, repeat] = sorted(logs(client), key=lambda e: e["id"])
    assert (processed_first["processed"], processed_first["error"]) == (True, None)
    assert repeat["is_duplicate"] is True
    assert payment_count(db) == 1
    assert_ledger_ok(db)


def test_reprocess_of_an_unknown_entry_is_404(client: TestClient) -> None:
    """Re-running a log id that does not exist answers 404 webhook_log_not_found."""
    answer = client.post("/api/webhooks/logs/999999/reprocess")
    assert answer.status_code == 404
    assert_error_body(answer.json(), "webhook_log_not_found")


def test_reprocess_needs_the_admin_role(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Operator and viewer keys get 403 on reprocess and the entry stays unprocessed."""
    entry = _send_failing_confirmation(client, monkeypatch, c2b_body("50", "NOBODY"))
    for role in ("viewer", "operator"):
        key = make_key(client, role)
        assert client.get("/api/webhooks/logs", headers=bearer(key)).status_code == 200
        answer = client.post(f"/api/webhooks/logs/{entry['id']}/reprocess", headers=bearer(key))
        assert answer.status_code == 403, (role, answer.text)
        assert_error_body(answer.json(), "forbidden")
    assert logs(client)[0]["processed"] is False
    assert payment_count(db) == 0


def test_cli_reprocess_by_id_credits_once(
    client: TestClient, db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pesadesk webhooks reprocess --id N` processes a failed callback; running it again is a no-
    op."""
    cust = customer(client)
    inv = invoice(client, cust, 300)
    entry = _send_failing_confirmation(
        client, monkeypatch, c2b_body("300.00", inv["invoice_id"], txn="CLI0000001")
    )
    result = run_cli(db_url, "webhooks", "reprocess", "--id", str(entry["id"]))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"#{entry['id']}: processed" in result.stdout
    again = run_cli(db_url, "webhooks", "reprocess", "--id", str(entry["id"]))
    assert again.exit_code == 0, (again.stdout, again.stderr)
    assert f"#{entry['id']}: already processed" in again.stdout
    after = client.get(f"/api/invoices/{inv['invoice_id']}").json()
    assert (after["status"], after["amount_paid"]) == ("PAID", 300.0)
    assert payment_count(db) == 1
    assert_ledger_ok(db)


def test_cli_reprocess_all_failed_runs_every_failed_callback(
    client: TestClient, db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--all-failed` re-runs each failed entry once, leaves good ones alone and credits each
    once."""
    cust = customer(client)
    inv = invoice(client, cust, 1000)
    pay(client, "100.00", inv["invoice_id"], txn="GOOD000001")
    for n in (1, 2):
        _send_failing_confirmation(
            client, monkeypatch, c2b_body("200.00", inv["invoice_id"], txn=f"BULK00000{n}")
        )
    result = run_cli(db_url, "webhooks", "reprocess", "--all-failed")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "2 callback(s) looked at" in result.stdout
    assert result.stdout.count(": processed") == 2
    assert all(entry["processed"] for entry in logs(client))
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["amount_paid"] == 500.0
    second = run_cli(db_url, "webhooks", "reprocess", "--all-failed")
    assert second.exit_code == 0, (second.stdout, second.stderr)
    assert "0 callback(s) looked at" in second.stdout
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["amount_paid"] == 500.0
    assert payment_count(db) == 3
    assert_ledger_ok(db)


def _insert_stranded(db: Database, body: dict[str, Any], received_at: Any) -> int:
    """A callback stored by a process that died before processing it."""
    with db.write() as session:
        log_id: int = session.execute(
            insert(WebhookLog)
            .values(
                source="c2b_confirmation",
                raw_body=json.dumps(body).encode(),
                received_at=received_at,
                remote_addr="196.201.214.200",
                processed=False,
                is_duplicate=False,
                flagged=False,
                error=None,
                attempts=0,
            )
            .returning(WebhookLog.id)
        ).scalar_one()
    return log_id


def test_recover_stranded_processes_a_stored_but_unprocessed_callback(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """recover_stranded processes an old unattempted entry once; a second pass finds nothing."""
    cust = customer(client)
    inv = invoice(client, cust, 900)
    log_id = _insert_stranded(
        db,
        c2b_body("900.00", inv["invoice_id"], txn="LOST000001"),
        clock.now() - timedelta(minutes=1),
    )
    pipeline = Pipeline(db, settings, clock)
    done = recover_stranded(pipeline, older_than=timedelta(seconds=5))
    assert done == 1
    assert recover_stranded(pipeline, older_than=timedelta(seconds=5)) == 0
    [entry] = [e for e in logs(client) if e["id"] == log_id]
    assert (entry["processed"], entry["attempts"], entry["error"]) == (True, 1, None)
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "PAID"
    assert payment_count(db) == 1
    assert_ledger_ok(db)


def test_background_loop_recovers_stranded_callbacks_within_seconds(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    """An app started with background=True processes a stranded callback without anyone asking."""
    log_id = _insert_stranded(
        db, c2b_body("250.00", "NOBODY-HERE", txn="LOOP000001"), clock.now() - timedelta(minutes=1)
    )
    app = create_app(settings, db=db, clock=clock, background=True, recovery_interval=0.1)
    with TestClient(app, headers=AUTH) as client:
        deadline = time.monotonic() + 10
        while payment_count(db) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        payment = client.get("/api/payments/PAY-C2B-LOOP000001")
        assert payment.status_code == 200, payment.text
        assert (payment.json()["status"], payment.json()["amount"]) == ("unallocated", 250.0)
        [entry] = [e for e in logs(client) if e["id"] == log_id]
        assert entry["processed"] is True
    assert payment_count(db) == 1
    assert_ledger_ok(db)


# -- rule 5 (refused callers) ------------------------------------------------------------


def test_webhook_token_is_required_when_configured(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """Missing or wrong ?token= gets 403, is kept flagged and credits nothing; the right one
    passes."""
    guarded = settings_with(db_url, security={"webhook_token": "tok-3f9a1c"})
    with app_client(guarded, db, clock) as client:
        cust = customer(client)
        inv = invoice(client, cust, 500)
        for suffix in ("", "?token=", "?token=wrong", "?token=TOK-3F9A1C"):
            body = c2b_body("500.00", inv["invoice_id"])
            answer = client.post(CONFIRMATION + suffix, json=body)
            assert answer.status_code == 403, (suffix, answer.text)
            assert_error_body(answer.json(), "webhook_refused")
            assert "tok-3f9a1c" not in answer.text
        assert client.post(VALIDATION, json=c2b_body("5", "X")).status_code == 403
        assert client.post(SEED_CONFIRMATION, json=c2b_body("5", "X")).status_code == 403
        refused = logs(client)
        assert len(refused) == 6
        for entry in refused:
            assert (entry["flagged"], entry["processed"]) == (True, False)
            assert "token" in entry["error"]
            assert "tok-3f9a1c" not in entry["error"]
        assert payment_count(db) == 0
        assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "UNPAID"
        good = client.post(
            CONFIRMATION + "?token=tok-3f9a1c",
            json=c2b_body("500.00", inv["invoice_id"], txn="TOKN000001"),
        )
        assert (good.status_code, good.json()) == (200, ACK)
        assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "PAID"
        assert failed_log_ids(db) == []  # refused entries are not "failed" re-runs
    assert payment_count(db) == 1
    assert_ledger_ok(db)


def test_allowlist_refuses_an_address_it_cannot_parse(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """With an allow-list set, a peer whose address is not an IP (TestClient's) is refused."""
    guarded = settings_with(db_url, security={"webhook_ip_allowlist": ["0.0.0.0/0", "::/0"]})
    with app_client(guarded, db, clock) as client:
        answer = client.post(CONFIRMATION, json=c2b_body("10", "X"))
        assert answer.status_code == 403
        assert_error_body(answer.json(), "webhook_refused")
        [entry] = logs(client)
        assert (entry["flagged"], entry["processed"]) == (True, False)
    assert payment_count(db) == 0


def test_allowlist_accepts_listed_networks_and_refuses_others(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """CIDRs in webhook_ip_allowlist pass; any other peer gets 403 and moves nothing."""
    guarded = settings_with(
        db_url, security={"webhook_ip_allowlist": ["196.201.214.0/24", " 196.201.212.127/32 "]}
    )
    peers = {("196.201.214.206", 200), ("196.201.212.127", 200), ("196.201.212.128", 403)}
    for address, expected in sorted(peers):
        with app_client(guarded, db, clock, client_address=(address, 443)) as client:
            answer = client.post(CONFIRMATION, json=c2b_body("10", "NOWHERE"))
            assert answer.status_code == expected, (address, answer.text)
    with app_client(guarded, db, clock, client_address=("196.201.214.206", 443)) as client:
        by_addr = {e["remote_addr"]: e for e in logs(client)}
    assert by_addr["196.201.212.128"]["flagged"] is True
    assert "196.201.212.128" in by_addr["196.201.212.128"]["error"]
    assert by_addr["196.201.214.206"]["processed"] is True
    assert payment_count(db) == 2


def test_trusted_forwarded_for_uses_the_rightmost_entry(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """With trust_forwarded_for, only the right-most X-Forwarded-For hop counts (left ones are
    forgeable)."""
    guarded = settings_with(
        db_url,
        security={"webhook_ip_allowlist": ["196.201.214.0/24"], "trust_forwarded_for": True},
    )
    with app_client(guarded, db, clock, client_address=("10.0.0.5", 443)) as client:
        forged = client.post(
            CONFIRMATION,
            json=c2b_body("10", "X"),
            headers={"X-Forwarded-For": "196.201.214.200, 41.90.1.1"},
        )
        assert forged.status_code == 403, forged.text
        real = client.post(
            CONFIRMATION,
            json=c2b_body("10", "X", txn="XFFD000001"),
            headers={"X-Forwarded-For": "41.90.1.1,  196.201.214.200"},
        )
        assert real.status_code == 200, real.text
        entries = {e["remote_addr"]: e for e in logs(client)}
    assert entries["41.90.1.1"]["flagged"] is True
    assert entries["196.201.214.200"]["processed"] is True
    assert payment_count(db) == 1


def test_allowlist_against_a_real_loopback_peer(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """Through a real server a 127.0.0.1 peer passes a 127.0.0.0/8 list and is refused by a
    list of Safaricom's addresses, and the log keeps the real peer address."""
    for allowed, expected in ((["127.0.0.0/8"], 200), (["196.201.214.0/24"], 403)):
        guarded = settings_with(db_url, security={"webhook_ip_allowlist": allowed})
        app = create_app(guarded, db=db, clock=clock, background=False)
        with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
            answer = http.post(CONFIRMATION, json=c2b_body("20", "X", txn=f"LOOP{expected}001"))
            assert answer.status_code == expected, (allowed, answer.text)
    rows = log_rows(db)
    assert [r.remote_addr for r in rows] == ["127.0.0.1", "127.0.0.1"]
    assert [(r.flagged, r.processed) for r in rows] == [(False, True), (True, False)]
    assert payment_count(db) == 1


def test_untrusted_forwarded_for_cannot_satisfy_the_allowlist(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """With trust_forwarded_for false (the default) an X-Forwarded-For header from the peer is
    ignored: a loopback peer claiming a Safaricom address is still refused with 403."""
    guarded = settings_with(db_url, security={"webhook_ip_allowlist": ["196.201.214.0/24"]})
    app = create_app(guarded, db=db, clock=clock, background=False)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        answer = http.post(
            CONFIRMATION,
            json=c2b_body("20", "X", txn="SPOOF00001"),
            headers={"X-Forwarded-For": "196.201.214.200"},
        )
    [row] = log_rows(db)
    assert row.remote_addr == "127.0.0.1"
    assert answer.status_code == 403, answer.text
    assert payment_count(db) == 0


# -- rule 9: validation -----------------------------------------------------------------


def test_validation_accepts_everything_by_default(client: TestClient, db: Database) -> None:
    """By default validation answers "0"/Accepted (string code), even for unknown accounts, and
    credits nothing."""
    for body in (fixture_bytes("s8-c2b-validation-v1-hashed-msisdn-no-middle-last-keys.json"),
                 json.dumps(c2b_body("abc", "NOSUCH")).encode()):  # fmt: skip
        answer = client.post(VALIDATION, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 200
        assert answer.json() == VALIDATION_ACCEPTED
    entries = logs(client, source="c2b_validation")
    assert len(entries) == 2
    assert payment_count(db) == 0


def test_validation_rejects_unknown_accounts_and_bad_amounts_when_configured(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """reject_unknown_accounts: unknown ref -> C2B00012, bad amount -> C2B00013, known ids
    accepted."""
    strict = settings_with(db_url, payments={"c2b": {"reject_unknown_accounts": True}})
    with app_client(strict, db, clock) as client:
        cust = customer(client)
        inv = invoice(client, cust, 100)
        sale = client.post(
            "/api/pos/sales",
            json={"items": [{"product_id": "A", "product_name": "A", "quantity": 1,
                             "unit_price": 100}]},
        ).json()  # fmt: skip

        def answer(amount: Any, ref: str) -> Any:
            body = c2b_body("1", ref)
            body["TransAmount"] = amount
            reply = client.post(VALIDATION, json=body)
            assert reply.status_code == 200, reply.text
            return reply.json()

        rejected_account = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
        rejected_amount = {"ResultCode": "C2B00013", "ResultDesc": "Rejected"}
        assert answer("100", "NO-SUCH-ACCOUNT") == rejected_account
        assert answer("100", "") == rejected_account
        for bad in ("abc", "0", "-5", "250001", "250000.01", 0, -5, "", None):
            assert answer(bad, inv["invoice_id"]) == rejected_amount, bad
        for ref in (inv["invoice_id"], cust, sale["pos_id"], f"  {inv['invoice_id'].lower()} "):
            assert answer("100.00", ref) == VALIDATION_ACCEPTED, ref
        assert answer("250000", cust) == VALIDATION_ACCEPTED
        s8 = fixture_bytes("s8-c2b-validation-v1-hashed-msisdn-no-middle-last-keys.json")
        reply = client.post(VALIDATION, content=s8, headers={"content-type": "application/json"})
        assert reply.json() == rejected_account  # ACC12345 is nobody here
    assert payment_count(db) == 0


# -- paths, fixture payloads, rule 8, the payment object --------------------------------


def test_seed_path_is_the_same_confirmation_endpoint(client: TestClient, db: Database) -> None:
    """/api/webhooks/mpesa credits like /api/webhooks/c2b/confirmation and shares its
    idempotency."""
    cust = customer(client)
    inv = invoice(client, cust, 1200)
    body = c2b_body("1200.00", inv["invoice_id"], txn="SEED000001")
    first = client.post(SEED_CONFIRMATION, json=body)
    assert (first.status_code, first.json()) == (200, ACK)
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "PAID"
    again = client.post(CONFIRMATION, json=body)
    assert (again.status_code, again.json()) == (200, ACK)
    entries = sorted(logs(client), key=lambda e: e["id"])
    assert [e["source"] for e in entries] == ["c2b_confirmation"] * 2
    assert [e["is_duplicate"] for e in entries] == [False, True]
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["amount_paid"] == 1200.0
    assert payment_count(db) == 1
    assert_ledger_ok(db)


def test_s7_masked_msisdn_confirmation_is_kept_as_sent(client: TestClient, db: Database) -> None:
    """Sample S7 (v2, masked MSISDN, INV-0042 unknown here): an unallocated payment, phone as sent,
    no hash."""
    raw = fixture_bytes("s7-c2b-confirmation-v2-masked-msisdn.json")
    answer = client.post(CONFIRMATION, content=raw, headers={"content-type": "application/json"})
    assert (answer.status_code, answer.json()) == (200, ACK)
    payment = client.get("/api/payments/PAY-C2B-RKL51ZDR4F").json()
    assert payment["phone"] == "2547 ***** 126"
    assert payment["msisdn_hash"] is None
    assert (payment["amount"], payment["status"], payment["reference"]) == (
        5.0,
        "unallocated",
        "INV-0042",
    )
    assert payment["payer_name"] == "NICHOLAS"
    assert logs(client)[0]["raw_payload"] == raw.decode()
    assert_ledger_ok(db)


def test_s8_hashed_msisdn_confirmation_keeps_the_hash(client: TestClient, db: Database) -> None:
    """Sample S8 (v1 hash, no MiddleName/LastName keys) as a confirmation lands on account
    ACC12345."""
    created = client.post(
        "/api/customers", json={"name": "John", "phone": "0799000000", "customer_id": "ACC12345"}
    )
    assert created.status_code == 201, created.text
    sample = fixture_json("s8-c2b-validation-v1-hashed-msisdn-no-middle-last-keys.json")
    answer = client.post(CONFIRMATION, json=sample)
    assert (answer.status_code, answer.json()) == (200, ACK)
    payment = client.get(f"/api/payments/PAY-C2B-{sample['TransID']}").json()
    assert payment["phone"] == sample["MSISDN"]
    assert payment["msisdn_hash"] == sample["MSISDN"]
    assert payment["payer_name"] == "JOHN"
    assert (payment["status"], payment["customer_id"], payment["amount"]) == (
        "completed",
        "ACC12345",
        1500.0,
    )
    assert client.get("/api/customers/ACC12345").json()["balance"] == -1500.0
    assert_ledger_ok(db)


def test_hash_of_known_phone_in_s8_shape_credits_that_customer(
    client: TestClient, db: Database
) -> None:
    """An S8-shaped body whose hash is a customer's phone and whose ref matches nothing goes to
    them."""
    cust = customer(client, phone="0712345678")
    sample = fixture_json("s8-c2b-validation-v1-hashed-msisdn-no-middle-last-keys.json")
    sample["MSISDN"] = phone_hash("254712345678")
    assert client.post(CONFIRMATION, json=sample).json() == ACK
    payment = client.get(f"/api/payments/PAY-C2B-{sample['TransID']}").json()
    assert (payment["customer_id"], payment["msisdn_hash"]) == (cust, sample["MSISDN"])
    assert payment["reference"] == "ACC12345"
    assert_ledger_ok(db)


def test_c2b_payment_has_the_seed_shape(client: TestClient) -> None:
    """A C2B payment carries every seed key with the seed's types and C2B values (CONTRACT §4)."""
    cust = customer(client)
    inv = invoice(client, cust, 500)
    payment = pay(client, "500.00", f" {inv['invoice_id'].lower()} ", txn="SHAPE00001")
    assert set(payment) >= SEED_PAYMENT_KEYS
    assert payment["id"] == "PAY-C2B-SHAPE00001"
    assert payment["order_id"] is None
    assert isinstance(payment["amount"], float)
    assert payment["amount"] == 500.0
    assert (payment["currency"], payment["method"], payment["source"]) == ("KES", "mpesa", "c2b")
    assert payment["status"] == "completed"
    assert payment["provider_ref"] == payment["receipt"] == "SHAPE00001"
    assert payment["reference"] == f" {inv['invoice_id'].lower()} "  # as sent
    assert payment["phone"] == "2547 ***** 126"
    assert payment["created_at"] == "2026-02-06 12:00:00"
    assert payment["updated_at"] == "2026-02-06 12:00:00"
    listed = client.get("/api/payments").json()
    assert listed == [payment]
    odd = pay(client, "1234.5", cust, txn="SHAPE00002")
    assert isinstance(odd["amount"], float)
    assert odd["amount"] == 1234.5


def test_admin_key_header_is_not_needed_on_webhook_paths(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """Webhook paths take no Authorization header at all (Safaricom sends none)."""
    with app_client(settings_with(db_url), db, clock) as client:
        del client.headers["Authorization"]
        assert client.post(CONFIRMATION, json=c2b_body("15", "X")).json() == ACK
        assert client.post(VALIDATION, json=c2b_body("15", "X")).json() == VALIDATION_ACCEPTED
        assert client.get("/api/webhooks/logs").status_code == 401
    assert payment_count(db) == 1
