"""Orders paid by STK Push, end to end over real HTTP: pesadesk sends the prompt to the
emulator, the emulator calls back, the worker tells every admin on WhatsApp."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, update

from pesadesk.api.app import create_app
from pesadesk.core.clock import SystemClock
from pesadesk.db.models import LedgerEntry, OutboxMessage, Payment
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from pesadesk.pipeline.rerun import rerun_flagged
from pesadesk.pipeline.run import Pipeline
from pesadesk.testing import free_port, serve_in_thread
from pesadesk.testing.emulator import running_emulator
from tests.acceptance.conftest import ADMIN_KEY, ADMINS, Desk, desk_settings, wait_until

pytestmark = pytest.mark.slow


def order(desk: Desk, phone: str = "0712345678", amount: int = 500) -> dict[str, Any]:
    answer = desk.api.post(
        "/api/orders",
        json={"customer_phone": phone, "amount": amount, "delivery_location": "Kilimani, Nairobi"},
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    assert created["status"] == "pending"
    return created


def pay(desk: Desk, order_id: int, **headers: str) -> dict[str, Any]:
    answer = desk.api.post(f"/api/orders/{order_id}/pay", headers=headers)
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


def payment_status(desk: Desk, payment_id: str, wanted: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        current: dict[str, Any] = desk.api.get(f"/api/payments/{payment_id}").json()
        return current if current["status"] == wanted else None

    result: dict[str, Any] = wait_until(check, what=f"{payment_id} {wanted}")
    return result


def test_paid_order_is_confirmed_and_every_admin_hears_once(desk: Desk) -> None:
    """Order -> pay -> callback: payment completed with receipt, order confirmed, one
    WhatsApp per admin with the order, amount, receipt, phone and location."""
    created = order(desk)
    started = pay(desk, created["id"])
    assert started["status"] == "processing"
    assert started["payment_id"].startswith(f"PAY-{created['id']}-")
    assert started["provider_ref"].startswith("ws_CO_")
    done = payment_status(desk, started["payment_id"], "completed")
    assert done["receipt"]
    assert done["provider_ref"] == started["provider_ref"]
    assert done["reference"] == f"Order #{created['id']}"
    assert desk.api.get(f"/api/orders/{created['id']}").json()["status"] == "confirmed"
    for admin in ADMINS:
        wait_until(lambda admin=admin: desk.whatsapp.texts_to(admin), what="whatsapp")
    texts = [desk.whatsapp.texts_to(admin) for admin in ADMINS]
    assert [len(t) for t in texts] == [1, 1]
    text = texts[0][0]
    for part in (
        f"Order #{created['id']}",
        "KES 500.00",
        done["receipt"],
        "+254712345678",
        "Kilimani, Nairobi",
        "Order confirmed and ready to prepare!",
    ):
        assert part in text
    with desk.db.read() as session:
        assert verify(session).ok
    metrics = desk.api.get("/metrics").text
    assert (
        'pesadesk_daraja_request_seconds_count{path="/mpesa/stkpush/v1/processrequest"' in metrics
    )


@pytest.mark.parametrize(
    ("phone", "status"),
    [
        ("254700001032", "cancelled"),
        ("254700001037", "timeout"),
        ("254700000001", "failed"),
    ],
)
def test_unpaid_outcomes_leave_the_order_pending(desk: Desk, phone: str, status: str) -> None:
    """Cancelled, timed out and insufficient funds: payment says so, order stays pending,
    admins get a short alert, and no money is recorded."""
    created = order(desk, phone=phone)
    started = pay(desk, created["id"])
    done = payment_status(desk, started["payment_id"], status)
    assert done["receipt"] is None
    assert done["result_code"] == phone[-4:].lstrip("0")
    assert done["result_desc"]
    assert desk.api.get(f"/api/orders/{created['id']}").json()["status"] == "pending"
    for admin in ADMINS:
        alert = wait_until(lambda admin=admin: desk.whatsapp.texts_to(admin), what="alert")
        assert f"Order #{created['id']}" in alert[0]
        assert status in alert[0]
    with desk.db.read() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 0
    again = pay(desk, created["id"])
    assert again["payment_id"] != started["payment_id"]


def test_callback_never_sent_is_settled_by_the_sweeper(desk: Desk) -> None:
    """No callback ever comes: after query_after_seconds STK Query settles the payment."""
    created = order(desk, phone="254700000404")
    started = pay(desk, created["id"])
    done = payment_status(desk, started["payment_id"], "completed")
    assert done["result_desc"].startswith("settled by STK Query")
    assert desk.api.get(f"/api/orders/{created['id']}").json()["status"] == "confirmed"
    wait_until(lambda: desk.whatsapp.texts_to(ADMINS[0]), what="whatsapp after sweep")


def test_fifty_duplicate_callbacks_complete_once_and_notify_once(desk: Desk) -> None:
    """The same success callback 50 times at once: one completion, one message per admin."""
    created = order(desk, phone="254700000404")  # the emulator stays quiet; we call back
    started = pay(desk, created["id"])
    callback = {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": "29115-34620561-1",
                "CheckoutRequestID": started["provider_ref"],
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {
                    "Item": [
                        {"Name": "Amount", "Value": 500.00},
                        {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
                        {"Name": "Balance"},
                        {"Name": "TransactionDate", "Value": 20260206120130},
                        {"Name": "PhoneNumber", "Value": 254700000404},
                    ]
                },
            }
        }
    }

    def send(_: int) -> int:
        with httpx.Client(base_url=desk.url, timeout=30) as one:
            return one.post("/api/mpesa/callback", json=callback).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(send, range(50)))
    assert codes == [200] * 50
    done = payment_status(desk, started["payment_id"], "completed")
    assert done["receipt"] == "NLJ7RT61SV"
    logs = desk.api.get("/api/webhooks/logs", params={"source": "stk", "limit": 100}).json()
    assert sum(not entry["is_duplicate"] for entry in logs["data"]) == 1
    for admin in ADMINS:
        wait_until(lambda admin=admin: desk.whatsapp.texts_to(admin), what="whatsapp")
    with desk.db.read() as session:
        outbox = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        cash = session.execute(
            select(func.sum(LedgerEntry.debit_cents)).where(LedgerEntry.account == "cash")
        ).scalar_one()
    assert outbox == len(ADMINS)
    assert cash == 50_000
    assert [len(desk.whatsapp.texts_to(a)) for a in ADMINS] == [1, 1]


def test_unknown_or_mismatched_callbacks_are_flagged_and_credit_nothing(desk: Desk) -> None:
    """A callback for an unknown CheckoutRequestID, or for a different amount, is flagged."""
    created = order(desk, phone="254700000404")
    started = pay(desk, created["id"])

    def callback(checkout: str, amount: float) -> dict[str, Any]:
        items = [
            {"Name": "Amount", "Value": amount},
            {"Name": "MpesaReceiptNumber", "Value": "QQQ1234567"},
        ]
        result = {"MerchantRequestID": "m", "CheckoutRequestID": checkout, "ResultCode": 0,
                  "ResultDesc": "ok", "CallbackMetadata": {"Item": items}}  # fmt: skip
        return {"Body": {"stkCallback": result}}

    for body in (callback("ws_CO_unknown", 500), callback(started["provider_ref"], 5)):
        assert desk.api.post("/api/mpesa/callback", json=body).status_code == 200
    flagged = desk.api.get("/api/webhooks/logs", params={"source": "stk"}).json()["data"]
    assert all(entry["flagged"] for entry in flagged)
    assert any("unknown CheckoutRequestID" in (entry["error"] or "") for entry in flagged)
    assert any(
        "amount KES 5.00 differs from the KES 500.00 asked" in (entry["error"] or "")
        for entry in flagged
    )
    held = desk.api.get(f"/api/payments/{started['payment_id']}").json()
    assert (held["status"], held["needs_review"], held["receipt"]) == ("failed", True, None)
    assert desk.api.get(f"/api/orders/{created['id']}").json()["status"] == "pending"
    with desk.db.read() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 0


def test_idempotency_key_never_sends_a_second_prompt(desk: Desk) -> None:
    """The same Idempotency-Key twice returns the first answer; one STK Push was sent."""
    created = order(desk, phone="254700000404")
    first = pay(desk, created["id"], **{"Idempotency-Key": "abc-123"})
    second = pay(desk, created["id"], **{"Idempotency-Key": "abc-123"})
    assert second == first
    assert list(desk.emulator.state.stk) == [first["provider_ref"]]
    third = desk.api.post(f"/api/orders/{created['id']}/pay")
    assert third.status_code == 409
    assert third.json()["code"] == "payment_in_progress"


def test_daraja_failing_the_push_is_a_503_with_the_contract_error_body(desk: Desk) -> None:
    """Daraja answering 5xx to the STK Push: 503 (a status the contract lists) with
    `{error, code}` and the payment id; the order stays pending and nothing is credited."""
    created = order(desk, phone="254700000500")  # the emulator's daraja_error number
    answer = desk.api.post(f"/api/orders/{created['id']}/pay")
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["code"] == "daraja_server_error"
    assert body["error"]
    assert body["payment_id"].startswith(f"PAY-{created['id']}-")
    assert desk.api.get(f"/api/orders/{created['id']}").json()["status"] == "pending"
    assert desk.api.get(f"/api/payments/{body['payment_id']}").json()["receipt"] is None


def test_wrong_passkey_is_a_clear_422_and_closes_the_payment(db: Database, db_url: str) -> None:
    """Daraja's 500.001.1001 "Wrong credentials" to an STK Push is a refusal, not a lost
    answer: 422 `daraja_stk_refused` with Daraja's words, the payment `failed` (not left
    processing for review), the order still pending and payable once the passkey is fixed."""
    with running_emulator() as emulator:
        port = free_port()
        settings = desk_settings(db_url, port, emulator.base_url, "http://127.0.0.1:9")
        settings.payments.mpesa.passkey = SecretStr("not-the-sandbox-passkey")
        app = create_app(settings, db=db, background=False)
        with (
            serve_in_thread(app, port=port) as url,
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as api,
        ):
            created = api.post(
                "/api/orders",
                json={"customer_phone": "0712345678", "amount": 50, "delivery_location": "x"},
            ).json()
            answer = api.post(f"/api/orders/{created['id']}/pay")
            assert answer.status_code == 422, answer.text
            body = answer.json()
            assert (body["code"], body["status"]) == ("daraja_stk_refused", "failed")
            assert "Wrong credentials" in body["error"]
            payment = api.get(f"/api/payments/{body['payment_id']}").json()
            assert (payment["status"], payment["needs_review"]) == ("failed", False)
            assert api.get(f"/api/orders/{created['id']}").json()["status"] == "pending"
            assert emulator.state.request_counts["/mpesa/stkpush/v1/processrequest"] == 1


def test_whatsapp_failing_twice_is_delivered_once_later(desk: Desk) -> None:
    """The WhatsApp API fails the first two sends: the worker retries and each admin still
    gets exactly one message."""
    desk.whatsapp.fail_next = 2
    created = order(desk)
    started = pay(desk, created["id"])
    payment_status(desk, started["payment_id"], "completed")
    for admin in ADMINS:
        wait_until(lambda admin=admin: desk.whatsapp.texts_to(admin), what="retried whatsapp")
    assert desk.whatsapp.requests >= len(ADMINS) + 2
    assert [len(desk.whatsapp.texts_to(a)) for a in ADMINS] == [1, 1]


def test_order_cancelled_while_prompt_open_is_paid_but_not_confirmed(desk: Desk) -> None:
    """The order is cancelled, then the customer pays: money recorded, order stays
    cancelled, admins told to refund or reinstate (not "ready to prepare")."""
    created = order(desk, phone="254700005002")  # callback two seconds late
    started = pay(desk, created["id"])
    cancelled = desk.api.patch(f"/api/orders/{created['id']}", json={"status": "cancelled"})
    assert cancelled.status_code == 200
    payment_status(desk, started["payment_id"], "completed")
    assert desk.api.get(f"/api/orders/{created['id']}").json()["status"] == "cancelled"
    text = wait_until(lambda: desk.whatsapp.texts_to(ADMINS[0]), what="whatsapp")[0]
    assert "refund or reinstate" in text
    assert "ready to prepare" not in text


def test_admin_closes_a_review_once_with_an_audited_note(desk: Desk) -> None:
    """Money on a cancelled order waits for a person: it is listed as needing review, an
    operator may not close that, an admin closes it once with a note that is audited."""
    created = order(desk, phone="254700005002")  # callback two seconds late
    started = pay(desk, created["id"])
    desk.api.patch(f"/api/orders/{created['id']}", json={"status": "cancelled"})
    paid = payment_status(desk, started["payment_id"], "completed")
    assert paid["needs_review"] is True
    waiting = desk.api.get("/api/payments", params={"needs_review": "true"}).json()
    assert [p["id"] for p in waiting] == [started["payment_id"]]
    review = f"/api/payments/{started['payment_id']}/review"
    operator = desk.api.post("/api/keys", json={"role": "operator", "name": "till"}).json()
    refused = desk.api.post(review, json={"note": "x"},
                            headers={"Authorization": f"Bearer {operator['key']}"})  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    empty = desk.api.post(review, json={"note": "  "})
    assert empty.status_code == 422
    closed = desk.api.post(review, json={"note": "customer collected in person"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["needs_review"], closed.json()["status"]) == (False, "completed")
    again = desk.api.post(review, json={"note": "twice"})
    assert (again.status_code, again.json()["code"]) == (409, "not_under_review")
    unknown = desk.api.post("/api/payments/PAY-NOPE/review", json={"note": "x"})
    assert unknown.status_code == 404
    assert desk.api.get("/api/payments", params={"needs_review": "true"}).json() == []
    entries = desk.api.get("/api/audit").json()["data"]
    closing = [e for e in entries if e["action"] == "payment.review_closed"]
    assert len(closing) == 1
    assert closing[0]["subject"] == started["payment_id"]
    assert "customer collected in person" in str(closing[0]["after"])


def test_callback_that_beats_our_record_is_applied_once_we_know_its_id(desk: Desk) -> None:
    """A callback whose CheckoutRequestID we have not stored yet is kept unprocessed and
    flagged; once the id is known, re-running it completes the payment."""
    created = order(desk, phone="254700000404")
    started = pay(desk, created["id"])
    early = {"Body": {"stkCallback": {
        "MerchantRequestID": "m", "CheckoutRequestID": "ws_CO_EARLY0001", "ResultCode": 0,
        "ResultDesc": "ok", "CallbackMetadata": {"Item": [
            {"Name": "Amount", "Value": 500}, {"Name": "MpesaReceiptNumber", "Value": "EARLY00001"},
        ]},
    }}}  # fmt: skip
    assert desk.api.post("/api/mpesa/callback", json=early).status_code == 200
    entry = desk.api.get("/api/webhooks/logs", params={"source": "stk"}).json()["data"][0]
    assert (entry["processed"], entry["flagged"]) == (False, True)
    assert "unknown CheckoutRequestID" in entry["error"]
    with desk.db.write() as session:  # as if Daraja's answer had named this id
        session.execute(
            update(Payment)
            .where(Payment.id == started["payment_id"])
            .values(provider_ref="ws_CO_EARLY0001")
        )
    rerun = rerun_flagged(
        Pipeline(desk.db, desk.settings, SystemClock()), source="stk",
        external_id="ws_CO_EARLY0001",
    )  # fmt: skip
    assert rerun == [entry["id"]]
    done = desk.api.get(f"/api/payments/{started['payment_id']}").json()
    assert (done["status"], done["receipt"]) == ("completed", "EARLY00001")
