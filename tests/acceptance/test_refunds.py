"""Refunds and payouts end to end over real HTTP: pesadesk asks the emulator's B2C, the
emulator calls back with the result, the refund settles once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from pesadesk.cli import app as cli
from pesadesk.core.clock import SystemClock, to_eat
from pesadesk.db.models import LedgerEntry
from pesadesk.emulator.scenarios import named_scenario
from pesadesk.ledger.verify import verify
from pesadesk.shared import audit
from tests.acceptance.conftest import Desk, wait_until

pytestmark = pytest.mark.slow


def paid_order(
    desk: Desk, amount: int = 1000, phone: str = "0712345678", *, then: str | None = None
) -> dict[str, Any]:
    """An order paid by STK Push through the emulator: a completed payment to refund.
    `then` names the emulator scenario the payer's number follows afterwards (for B2C)."""
    created = desk.api.post(
        "/api/orders",
        json={"customer_phone": phone, "amount": amount, "delivery_location": "Ngong Rd"},
    ).json()
    started = desk.api.post(f"/api/orders/{created['id']}/pay").json()
    paid = refund_status(desk, f"/api/payments/{started['payment_id']}", "completed")
    if then is not None:
        desk.emulator.state.phone_overrides[paid["phone"]] = named_scenario(then)
    return paid


def refund_status(desk: Desk, path: str, wanted: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        body: dict[str, Any] = desk.api.get(path).json()
        return body if body.get("status") == wanted else None

    result: dict[str, Any] = wait_until(check, what=f"{path} {wanted}")
    return result


def refund(desk: Desk, payment_id: str, **body: Any) -> httpx.Response:
    return desk.api.post(f"/api/payments/{payment_id}/refund", json=body)


def other_admin(desk: Desk, owner: str | None = "Second Admin") -> dict[str, str]:
    body = {"role": "admin", "name": "second-admin", "owner": owner}
    key = desk.api.post("/api/keys", json=body).json()
    return {"Authorization": f"Bearer {key['key']}"}


def test_full_refund_completes_and_tells_the_customer(desk: Desk) -> None:
    """A full refund: 200 processing with Daraja's ConversationID and the seed's message;
    the B2C result completes it, the payment is refunded, the customer hears on WhatsApp,
    the ledger records the money out, and the audit chain holds."""
    payment = paid_order(desk, 500)
    answer = refund(desk, payment["id"], reason="Out of stock")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True
    assert body["status"] == "processing"
    assert body["conversation_id"].startswith("AG_")
    assert body["message"] == "Refund of KES 500.00 initiated to 254712345678"
    done = refund_status(desk, f"/api/refunds/{body['refund_id']}", "completed")
    assert done["receipt"]
    assert desk.api.get(f"/api/payments/{payment['id']}").json()["status"] == "refunded"
    wait_until(lambda: desk.whatsapp.texts_to("254712345678"), what="customer message")
    assert "refund of KES 500.00" in desk.whatsapp.texts_to("254712345678")[0]
    with desk.db.read() as session:
        out = session.execute(
            select(func.sum(LedgerEntry.credit_cents)).where(LedgerEntry.account == "cash")
        ).scalar_one()
        assert out == 50_000
        assert verify(session).ok
        assert audit.verify(session).ok
    actions = [e["action"] for e in desk.api.get("/api/audit").json()["data"]]
    assert actions[:3] == ["refund.completed", "refund.sent", "refund.requested"]
    stats = desk.api.get("/api/stats").json()
    assert (stats["refunded_amount"], stats["payment_revenue"]) == (500.0, 0.0)


def test_partial_refunds_then_the_rest(desk: Desk) -> None:
    """300 of 1,000 leaves it partially refunded; the remaining 700 (no amount) refunds it."""
    payment = paid_order(desk, 1000)
    first = refund(desk, payment["id"], amount=300).json()
    refund_status(desk, f"/api/refunds/{first['refund_id']}", "completed")
    assert desk.api.get(f"/api/payments/{payment['id']}").json()["status"] == "partially_refunded"
    rest = refund(desk, payment["id"]).json()
    assert rest["message"].startswith("Refund of KES 700.00")
    refund_status(desk, f"/api/refunds/{rest['refund_id']}", "completed")
    assert desk.api.get(f"/api/payments/{payment['id']}").json()["status"] == "refunded"
    again = refund(desk, payment["id"])
    assert (again.status_code, again.json()["code"]) == (409, "refund_not_allowed")


def test_refusals_each_with_a_clear_code(desk: Desk) -> None:
    """Under the minimum, over the maximum, over what remains, a payment not completed,
    a delivered order, an unknown payment: each refused with its own code, nothing sent."""
    payment = paid_order(desk, 2000)
    cases = [
        (refund(desk, payment["id"], amount=5), 422, "refund_amount_invalid"),
        (refund(desk, payment["id"], amount=200_000), 422, "refund_amount_invalid"),
        (refund(desk, payment["id"], amount=2500), 422, "refund_amount_invalid"),
        (refund(desk, payment["id"], command_id="Gift"), 422, "invalid_input"),
        (refund(desk, "PAY-NOPE"), 404, "not_found"),
    ]
    for answer, status, code in cases:
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    order_id = payment["order_id"]
    for status in ("preparing", "delivered"):
        desk.api.patch(f"/api/orders/{order_id}", json={"status": status})
    delivered = refund(desk, payment["id"])
    assert (delivered.status_code, delivered.json()["code"]) == (409, "refund_not_allowed")
    assert "delivered" in delivered.json()["error"]
    pending = desk.api.post(
        "/api/orders",
        # the emulator's "cancelled" number: processing, then cancelled, never completed
        json={"customer_phone": "254700001032", "amount": 50, "delivery_location": "x"},
    ).json()
    started = desk.api.post(f"/api/orders/{pending['id']}/pay").json()
    unpaid = refund(desk, started["payment_id"])
    assert (unpaid.status_code, unpaid.json()["code"]) == (409, "refund_not_allowed")
    assert desk.api.get("/api/refunds").json()["data"] == []


def test_large_refund_needs_a_second_admin(desk: Desk) -> None:
    """Above the threshold: 202 pending_approval; the asking key cannot approve (403); a
    second admin approves and it is sent; another one is rejected and releases its amount."""
    payment = paid_order(desk, 20_000)
    pending = refund(desk, payment["id"], amount=6000)
    assert pending.status_code == 202
    assert pending.json()["status"] == "pending_approval"
    refund_id = pending.json()["refund_id"]
    own = desk.api.post(f"/api/refunds/{refund_id}/approve")
    assert (own.status_code, own.json()["code"]) == (403, "same_person")
    second = other_admin(desk)
    approved = desk.api.post(f"/api/refunds/{refund_id}/approve", headers=second)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "processing"
    refund_status(desk, f"/api/refunds/{refund_id}", "completed")
    again = desk.api.post(f"/api/refunds/{refund_id}/approve", headers=second)
    assert again.status_code == 409
    other = refund(desk, payment["id"], amount=14_000).json()
    rejected = desk.api.post(f"/api/refunds/{other['refund_id']}/reject", headers=second)
    assert rejected.json()["status"] == "rejected"
    rest = refund(desk, payment["id"], amount=14_000)
    assert rest.status_code == 202  # the rejected one's amount was released


def test_b2c_failure_is_recorded_and_moves_no_money(desk: Desk) -> None:
    """A wrong initiator PIN (2001 for this number): failed with the code and a message
    for people, the amount released, and no money-out row in the ledger."""
    payment = paid_order(desk, 800, then="wrong_pin")
    body = refund(desk, payment["id"]).json()
    failed = refund_status(desk, f"/api/refunds/{body['refund_id']}", "failed")
    assert failed["result_code"] == "2001"
    assert "initiator" in failed["result_desc"].lower()
    assert desk.api.get(f"/api/payments/{payment['id']}").json()["status"] == "completed"
    with desk.db.read() as session:
        out = session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.credit_cents > 0,
                                                                LedgerEntry.account == "cash")
        ).scalar_one()  # fmt: skip
    assert out == 0
    assert refund(desk, payment["id"]).status_code == 200  # released: it can be tried again


def test_queue_timeout_is_settled_by_transaction_status(desk: Desk) -> None:
    """Only a queue timeout comes back: the refund stays processing until Transaction
    Status says the money went, never sent a second time."""
    payment = paid_order(desk, 600, then="timeout")
    body = refund(desk, payment["id"]).json()
    done = refund_status(desk, f"/api/refunds/{body['refund_id']}", "completed")
    assert "Transaction Status" in done["result_desc"]
    sent = [t for t in desk.emulator.state.b2c.values() if t.amount_cents == 60_000]
    assert len(sent) == 1


def test_utility_account_running_dry(desk: Desk) -> None:
    """The emulator's utility account holds too little: result 1, refund failed; then the
    known balance (from that result) refuses a refund larger than it up front."""
    payment = paid_order(desk, 3000)
    desk.emulator.state.accounts["600000"].utility = 1000_00
    body = refund(desk, payment["id"], amount=2000).json()
    failed = refund_status(desk, f"/api/refunds/{body['refund_id']}", "failed")
    assert failed["result_code"] == "1"
    assert desk.api.post("/api/balance/refresh").status_code == 202
    known = wait_until(
        lambda: (b := desk.api.get("/api/balance").json())["known"] and b["available"] == 1000.0,
        what="balance result",
    )
    assert known
    refused = refund(desk, payment["id"], amount=2000)
    assert (refused.status_code, refused.json()["code"]) == (409, "insufficient_funds"), (
        refused.text
    )


def test_twenty_concurrent_partial_refunds_never_exceed_the_payment(desk: Desk) -> None:
    """20 refunds of 100 on a 1,000 payment at once: exactly 10 accepted, 10 refused."""
    payment = paid_order(desk, 1000)

    def ask(_: int) -> int:
        with httpx.Client(base_url=desk.url, headers=desk.api.headers, timeout=30) as one:
            return one.post(
                f"/api/payments/{payment['id']}/refund", json={"amount": 100}
            ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(ask, range(20)))
    assert codes.count(200) == 10
    assert {c for c in codes if c != 200} <= {409, 422}  # over what remains / nothing left
    listed = desk.api.get("/api/refunds", params={"payment_id": payment["id"]}).json()["data"]
    assert sum(r["amount"] for r in listed) == 1000.0


def test_duplicate_b2c_results_settle_once(desk: Desk) -> None:
    """The emulator sends the result twice (this number): one completion, one money-out."""
    payment = paid_order(desk, 400, then="duplicate")
    body = refund(desk, payment["id"]).json()
    refund_status(desk, f"/api/refunds/{body['refund_id']}", "completed")

    def results() -> list[dict[str, Any]]:
        logs = desk.api.get("/api/webhooks/logs", params={"source": "b2c_result"}).json()
        return [e for e in logs["data"] if e["external_id"] == body["conversation_id"]]

    wait_until(lambda: len(results()) >= 2, what="second result")
    assert sorted(e["is_duplicate"] for e in results()) == [False, True]
    with desk.db.read() as session:
        assert verify(session).ok


def test_payout_is_admin_only_and_completes(desk: Desk) -> None:
    """A payout (a reward) goes to any number; operators may not send one."""
    operator = desk.api.post("/api/keys", json={"role": "operator", "name": "op"}).json()
    body = {"phone": "0712000111", "amount": 250, "command_id": "PromotionPayment",
            "remarks": "Loyalty reward"}  # fmt: skip
    refused = desk.api.post("/api/payouts", json=body,
                            headers={"Authorization": f"Bearer {operator['key']}"})  # fmt: skip
    assert refused.status_code == 403
    sent = desk.api.post("/api/payouts", json=body)
    assert sent.status_code == 200, sent.text
    assert sent.json()["message"] == "Payout of KES 250.00 initiated to 254712000111"
    refund_status(desk, f"/api/refunds/{sent.json()['refund_id']}", "completed")


def test_idempotency_key_never_refunds_twice(desk: Desk) -> None:
    """The same Idempotency-Key and body returns the first answer; one B2C was sent."""
    payment = paid_order(desk, 900)
    headers = {"Idempotency-Key": "refund-once"}
    first = desk.api.post(f"/api/payments/{payment['id']}/refund", json={"amount": 100},
                          headers=headers)  # fmt: skip
    second = desk.api.post(f"/api/payments/{payment['id']}/refund", json={"amount": 100},
                           headers=headers)  # fmt: skip
    assert first.json() == second.json()
    assert len(desk.api.get("/api/refunds").json()["data"]) == 1


def test_audit_chain_detects_an_edited_row(
    desk: Desk, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pesadesk audit verify` passes, then fails after someone edits an entry by hand."""
    payment = paid_order(desk, 300)
    refund(desk, payment["id"])
    monkeypatch.setenv("PESADESK_DATABASE_URL", db_url)
    monkeypatch.setenv("PESADESK_CONFIG", "")  # empty: no config file
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    with desk.db.write() as session:
        session.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = 1"))
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "#1" in broken.output


def test_refund_requests_are_rate_limited_per_key(desk: Desk) -> None:
    """Past the configured rate a key gets 429 with Retry-After, and nothing is created."""
    desk.settings.refunds.rate_limit_per_minute = 2
    payment = paid_order(desk, 1000)
    codes = [refund(desk, payment["id"], amount=100).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = refund(desk, payment["id"], amount=100)
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    assert len(desk.api.get("/api/refunds").json()["data"]) == 2


def test_refund_with_a_lost_answer_is_asked_about_not_resent(desk: Desk) -> None:
    """Daraja answers 503 to the B2C request: the refund stays processing (the money may
    have gone), no second B2C is sent, and its amount stays reserved."""
    payment = paid_order(desk, 700)
    httpx.post(
        f"{desk.emulator.base_url}/emulator/scenarios",
        json={"scenario": "daraja_down", "requests": 3, "status": 503},
    )
    answer = refund(desk, payment["id"])
    body = answer.json()
    current = desk.api.get(f"/api/refunds/{body['refund_id']}").json()
    assert current["status"] == "processing"
    assert "outcome unknown" in current["result_desc"]
    assert list(desk.emulator.state.b2c) == []  # the emulator never took it
    again = refund(desk, payment["id"])
    assert again.status_code == 409  # nothing left to refund while it is unresolved


def test_refund_of_account_credit_uses_the_credit_up(desk: Desk) -> None:
    """A customer's 1,000 of credit, 400 refunded: their balance goes from -1,000 to -600,
    and a later 1,000 invoice is paid only 600 from credit. Money that settled an invoice
    is not refunded."""
    customer = desk.api.post("/api/customers", json={"name": "Credit", "phone": "0712999000"})
    cust = customer.json()["customer_id"]
    confirmation = {"TransID": "CRD0000001", "TransAmount": "1000.00", "BillRefNumber": cust,
                    "MSISDN": "2547 ***** 000", "TransTime": "20261122090000"}  # fmt: skip
    desk.api.post("/api/webhooks/c2b/confirmation", json=confirmation)
    sent = refund(desk, "PAY-C2B-CRD0000001", amount=400).json()
    assert sent["message"] == "Refund of KES 400.00 initiated to 254712999000"
    refund_status(desk, f"/api/refunds/{sent['refund_id']}", "completed")
    assert desk.api.get(f"/api/customers/{cust}").json()["balance"] == -600.0
    invoice = desk.api.post("/api/invoices", json={"customer_id": cust, "amount": 1000}).json()
    assert (invoice["amount_paid"], invoice["status"]) == (600.0, "PARTIALLY_PAID")
    settled = {"TransID": "CRD0000002", "TransAmount": "400.00",
               "BillRefNumber": invoice["invoice_id"], "TransTime": "20261122090000"}  # fmt: skip
    desk.api.post("/api/webhooks/c2b/confirmation", json=settled)
    refused = refund(desk, "PAY-C2B-CRD0000002")
    assert (refused.status_code, refused.json()["code"]) == (409, "refund_not_allowed")
    with desk.db.read() as session:
        assert verify(session).ok


def test_a_b2c_sent_before_under_our_refund_id_is_never_taken_for_ours(desk: Desk) -> None:
    """Refund ids restart with a new database and a sandbox shortcode is shared: a B2C of
    KES 500 that someone already sent as `pesadesk-{our next refund id}` must neither block
    our refund of KES 50 nor settle it."""
    payment = paid_order(desk, 800)
    today = to_eat(SystemClock().now())
    # the first refund id of today, and of tomorrow in case midnight in Nairobi passes now
    candidates = [f"RF-{day:%Y%m%d}-0001" for day in (today, today + timedelta(days=1))]
    emulator = desk.emulator.base_url
    token = httpx.get(
        f"{emulator}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=("someone-else", "their-secret"),
    ).json()["access_token"]
    for taken in candidates:
        theirs = httpx.post(
            f"{emulator}/mpesa/b2c/v3/paymentrequest",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "OriginatorConversationID": f"pesadesk-{taken}",
                "InitiatorName": "testapi",
                "SecurityCredential": desk.emulator.security_credential(),
                "CommandID": "BusinessPayment",
                "Amount": 500,
                "PartyA": 600000,
                "PartyB": "254712000999",
                "Remarks": "another desk",
                "QueueTimeOutURL": "http://127.0.0.1:9/timeout",
                "ResultURL": "http://127.0.0.1:9/result",
            },
        )
        assert theirs.status_code == 200, theirs.text
    ours = refund(desk, payment["id"], amount=50)
    assert ours.status_code == 200, ours.text
    next_id = ours.json()["refund_id"]
    assert next_id in candidates
    assert ours.json()["conversation_id"]  # Daraja took it: no duplicate-id refusal
    done = refund_status(desk, f"/api/refunds/{next_id}", "completed")
    assert done["amount"] == 50.0
    assert done["originator_conversation_id"].startswith(f"pesadesk-{next_id}-")
    assert desk.api.get(f"/api/payments/{payment['id']}").json()["status"] == ("partially_refunded")


@pytest.mark.parametrize("their_status", ["Completed", "Failed"])
def test_transaction_status_for_another_amount_does_not_settle_a_refund(
    desk: Desk, their_status: str
) -> None:
    """A Transaction Status result naming our id but another amount, paid or failed, is
    flagged for a person; the refund stays processing, its amount stays reserved, and no
    money is recorded as gone."""
    payment = paid_order(desk, 800, then="no_callback")  # B2C result never comes
    ours = refund(desk, payment["id"], amount=50).json()
    sent = refund_status(desk, f"/api/refunds/{ours['refund_id']}", "processing")
    forged = {
        "Result": {
            "ResultType": 0,
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "OriginatorConversationID": "29112-34801843-1",
            "ConversationID": "AG_20261122_000000000000000000000",
            "TransactionID": "FORGED0001",
            "ResultParameters": {
                "ResultParameter": [
                    {
                        "Key": "OriginatorConversationID",
                        "Value": sent["originator_conversation_id"],
                    },
                    {"Key": "TransactionStatus", "Value": their_status},
                    {"Key": "Amount", "Value": 500},
                    {"Key": "ReceiptNo", "Value": "FORGED0001"},
                ]
            },
            "ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": ""}},
        }
    }
    answer = desk.api.post("/api/mpesa/b2c/callback", json=forged)
    assert answer.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    entry = desk.api.get("/api/webhooks/logs", params={"source": "b2c_result"}).json()["data"][0]
    assert entry["flagged"] is True
    assert "not settled" in entry["error"]
    still = desk.api.get(f"/api/refunds/{ours['refund_id']}").json()
    assert (still["status"], still["receipt"]) == ("processing", None)
    assert desk.api.get(f"/api/payments/{payment['id']}").json()["status"] == "completed"
    beyond = refund(desk, payment["id"], amount=751)  # 50 is still reserved
    assert (beyond.status_code, beyond.json()["code"]) == (422, "refund_amount_invalid")


def test_a_second_key_of_the_same_person_cannot_approve(desk: Desk) -> None:
    """An admin who asked for a large refund mints another admin key for themselves
    (the owner defaults to theirs): that key is refused too, and the minting and the
    revoking of keys are in the audit trail."""
    payment = paid_order(desk, 20_000)
    refund_id = refund(desk, payment["id"], amount=6000).json()["refund_id"]
    minted = desk.api.post("/api/keys", json={"role": "admin", "name": "my-other-key"}).json()
    same_person = {"Authorization": f"Bearer {minted['key']}"}
    refused = desk.api.post(f"/api/refunds/{refund_id}/approve", headers=same_person)
    assert (refused.status_code, refused.json()["code"]) == (403, "same_person")
    assert desk.api.get(f"/api/refunds/{refund_id}").json()["status"] == "pending_approval"
    assert desk.api.delete(f"/api/keys/{minted['id']}").status_code == 204
    actions = [e["action"] for e in desk.api.get("/api/audit").json()["data"]]
    assert {"api_key.created", "api_key.revoked"} <= set(actions)
