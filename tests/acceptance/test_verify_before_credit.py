"""CONTRACT §8, verify before credit: callbacks whose origin is not proven move no money
until Daraja itself confirms them; forged ones end flagged, crediting nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.acceptance.conftest import Desk, wait_until
from tests.acceptance.test_c2b_emulator import simulate
from tests.acceptance.test_refunds import paid_order, refund, refund_status
from tests.helpers import c2b_body

pytestmark = pytest.mark.slow

CONFIRMATION = "/api/webhooks/c2b/confirmation"
STK_CALLBACK = "/api/mpesa/callback"


@pytest.fixture
def desk_overrides() -> dict[str, Any]:
    """Every callback is confirmed with Daraja (no token, no allow-list: all unproven)."""
    return {"security": {"verify_callbacks": "always"}}


def _invoice(desk: Desk, amount: int) -> dict[str, Any]:
    cust = desk.api.post("/api/customers", json={"name": "Amina", "phone": "0722000111"})
    body = {"customer_id": cust.json()["customer_id"], "amount": amount}
    created: dict[str, Any] = desk.api.post("/api/invoices", json=body).json()
    return created


def _payment(desk: Desk, payment_id: str) -> dict[str, Any]:
    found: dict[str, Any] = desk.api.get(f"/api/payments/{payment_id}").json()
    return found


def _stk_success(checkout: str, amount: int, receipt: str | None = "FORGED0001") -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"Name": "Amount", "Value": amount}]
    if receipt:
        items.append({"Name": "MpesaReceiptNumber", "Value": receipt})
    return {"Body": {"stkCallback": {
        "MerchantRequestID": "m-1", "CheckoutRequestID": checkout, "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "CallbackMetadata": {"Item": items},
    }}}  # fmt: skip


def test_a_forged_c2b_confirmation_credits_nothing(desk: Desk) -> None:
    """A confirmation for a TransID Daraja never saw: 200 to the sender, the payment kept
    `pending_verification` (the invoice untouched), then Transaction Status says no such
    transaction and it is closed `failed`, flagged for a person; no shilling moved."""
    invoice = _invoice(desk, 5000)
    forged = c2b_body("5000.00", invoice["invoice_id"], txn="FAKE000001")
    assert desk.api.post(CONFIRMATION, json=forged).status_code == 200
    held = _payment(desk, "PAY-C2B-FAKE000001")
    assert held["status"] == "pending_verification"
    assert desk.api.get(f"/api/invoices/{invoice['invoice_id']}").json()["status"] == "UNPAID"
    closed = wait_until(
        lambda: (p := _payment(desk, "PAY-C2B-FAKE000001"))["status"] == "failed" and p,
        what="forged payment closed",
    )
    assert closed["needs_review"] is True
    assert "FAKE000001" in closed["result_desc"]
    assert desk.api.get(f"/api/invoices/{invoice['invoice_id']}").json()["status"] == "UNPAID"
    assert desk.api.get("/api/stats").json()["payment_revenue"] == 0.0


def test_a_real_c2b_payment_is_placed_once_daraja_confirms_it(desk: Desk) -> None:
    """The emulator's customer really pays the invoice: the unproven confirmation waits,
    Transaction Status confirms it, and the invoice is paid."""
    invoice = _invoice(desk, 700)
    simulate(desk, 700, invoice["invoice_id"], "254708374149")

    def paid() -> bool:
        current = desk.api.get(f"/api/invoices/{invoice['invoice_id']}").json()
        return bool(current["status"] == "PAID")

    wait_until(paid, what="invoice paid once Daraja confirmed the payment")
    [payment] = desk.api.get("/api/payments", params={"source": "c2b"}).json()
    assert payment["status"] == "completed"
    assert "Transaction Status" in (payment["result_desc"] or "")


def test_a_forged_stk_success_does_not_confirm_the_order(desk: Desk) -> None:
    """The customer cancels the prompt; a forged success with the right CheckoutRequestID
    and amount arrives too. STK Query says cancelled: the payment is cancelled, the order
    stays pending, and the forged callback is flagged."""
    created = desk.api.post(
        "/api/orders",
        json={"customer_phone": "254700001032", "amount": 800, "delivery_location": "CBD"},
    ).json()
    started = desk.api.post(f"/api/orders/{created['id']}/pay").json()
    forged = _stk_success(started["provider_ref"], 800)
    assert desk.api.post(STK_CALLBACK, json=forged).status_code == 200
    done = wait_until(
        lambda: (p := _payment(desk, started["payment_id"]))["status"] != "processing" and p,
        what="payment settled by STK Query",
    )
    assert done["status"] == "cancelled"
    assert done["receipt"] is None
    assert desk.api.get(f"/api/orders/{created['id']}").json()["status"] == "pending"
    logs = desk.api.get(
        "/api/webhooks/logs", params={"source": "stk", "external_id": started["provider_ref"]}
    ).json()["data"]
    forged_rows = [e for e in logs if '"FORGED0001"' in e["raw_payload"]]
    assert [e["flagged"] for e in forged_rows] == [True]
    # flagged by the STK Query that contradicted it, or (when the real callback settled
    # the payment first) as contradicting the settled payment
    assert "cancelled" in forged_rows[0]["error"]


def test_a_receipt_less_stk_success_waits_for_stk_query(desk: Desk) -> None:
    """A success whose metadata is an object, not a list, and names no receipt never
    completes the payment with `receipt: null` on its own word: STK Query decides."""
    created = desk.api.post(
        "/api/orders",
        json={"customer_phone": "254700000404", "amount": 300, "delivery_location": "CBD"},
    ).json()
    started = desk.api.post(f"/api/orders/{created['id']}/pay").json()
    odd = _stk_success(started["provider_ref"], 300, receipt=None)
    odd["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = {"Name": "Amount", "Value": 300}
    assert desk.api.post(STK_CALLBACK, json=odd).status_code == 200
    entry = desk.api.get("/api/webhooks/logs", params={"source": "stk"}).json()["data"][0]
    assert "STK Query" in (entry["error"] or "")
    assert _payment(desk, started["payment_id"])["status"] in ("processing", "completed")
    done = wait_until(
        lambda: (p := _payment(desk, started["payment_id"]))["status"] == "completed" and p,
        what="payment completed once STK Query said so",
    )
    assert desk.api.get(f"/api/orders/{created['id']}").json()["status"] == "confirmed"
    assert done["result_desc"].startswith("settled by STK Query")


def _b2c_result(originator: str, conversation: str, *, code: int = 0) -> dict[str, Any]:
    return {"Result": {
        "ResultType": 0, "ResultCode": code, "ResultDesc": "forged",
        "OriginatorConversationID": originator, "ConversationID": conversation,
        "TransactionID": "FORGED0002",
        "ResultParameters": {"ResultParameter": [
            {"Key": "TransactionAmount", "Value": 100},
            {"Key": "TransactionReceipt", "Value": "FORGED0002"},
        ]},
    }}  # fmt: skip


def _status_result(refund_id: str, amount: int) -> dict[str, Any]:
    return {"Result": {
        "ResultType": 0, "ResultCode": 0, "ResultDesc": "forged",
        "OriginatorConversationID": "29112-1-1", "ConversationID": "AG_20261201_forged00000000",
        "TransactionID": "FORGED0003",
        "ResultParameters": {"ResultParameter": [
            {"Key": "TransactionStatus", "Value": "Completed"},
            {"Key": "Amount", "Value": amount},
            {"Key": "ReceiptNo", "Value": "FORGED0003"},
        ]},
        "ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": refund_id}},
    }}  # fmt: skip


def test_forged_b2c_answers_settle_no_refund(desk: Desk) -> None:
    """A refund is out and its result has not come. Three unproven forgeries: a failure
    naming the (guessable) refund id, a success naming the real OriginatorConversationID
    but not the ConversationID Daraja gave, and a Transaction Status 'Completed' naming
    the refund id and its amount. None settles it: it stays processing, its amount
    reserved, each forgery kept flagged for a person."""
    payment = paid_order(desk, 900, then="no_callback")
    ours = refund(desk, payment["id"], amount=100).json()
    sent = refund_status(desk, f"/api/refunds/{ours['refund_id']}", "processing")
    forgeries = [
        _b2c_result(ours["refund_id"], "AG_20261201_guess0000000000", code=1),
        _b2c_result(sent["originator_conversation_id"], "AG_20261201_guess1111111111"),
        _status_result(ours["refund_id"], 100),
    ]
    for forged in forgeries:
        answer = desk.api.post("/api/mpesa/b2c/callback", json=forged)
        assert answer.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    logs = desk.api.get("/api/webhooks/logs", params={"source": "b2c_result"}).json()["data"]
    forged_rows = [e for e in logs if "forged" in e["raw_payload"]]
    assert len(forged_rows) == 3
    assert [e["flagged"] for e in forged_rows] == [True, True, True]
    # the two that name our refund wait, unapplied, for a person (or Daraja's real word)
    assert sorted(e["processed"] for e in forged_rows) == [False, False, True]
    still = desk.api.get(f"/api/refunds/{ours['refund_id']}").json()
    assert (still["status"], still["receipt"]) == ("processing", None)
    assert desk.api.get(f"/api/payments/{payment['id']}").json()["status"] == "completed"


def test_a_refund_completes_when_every_callback_is_verified(desk: Desk) -> None:
    """The real B2C result names the ConversationID Daraja gave pesadesk: it settles the
    refund, unproven origin or not."""
    payment = paid_order(desk, 600)
    body = refund(desk, payment["id"], amount=200).json()
    done = refund_status(desk, f"/api/refunds/{body['refund_id']}", "completed")
    assert done["receipt"]
    assert desk.api.get(f"/api/payments/{payment['id']}").json()["status"] == ("partially_refunded")


def test_transaction_status_settles_a_refund_when_it_answers_pesadesks_question(
    desk: Desk,
) -> None:
    """Only a queue timeout comes back for the refund; pesadesk asks Transaction Status
    and keeps the ConversationID Daraja gives the question. The unproven answer names it,
    so it settles the refund (whether it came before or after that id was kept)."""
    payment = paid_order(desk, 600, then="timeout")
    body = refund(desk, payment["id"], amount=100).json()
    done = refund_status(desk, f"/api/refunds/{body['refund_id']}", "completed")
    assert "Transaction Status" in done["result_desc"]
