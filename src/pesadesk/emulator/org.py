"""The other initiator APIs: Transaction Status, Account Balance and Reversal.

Each checks the initiator's SecurityCredential (a wrong one is result 2001), answers
"accepted" at once and POSTs its `Result` to the ResultURL after the callback delay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from pesadesk.core.clock import daraja_timestamp
from pesadesk.emulator.b2c import settle_b2c
from pesadesk.emulator.base import ORG_NAME, Api, ApiGroup, accepted
from pesadesk.emulator.formats import amount_number, amount_text, code_value
from pesadesk.emulator.records import B2CTransaction, Receipt
from pesadesk.emulator.validation import (
    ORG_TOKEN,
    bad,
    need_digits,
    need_remarks,
    need_text,
    need_url,
    need_whole_amount,
)

__all__ = ["OrgApi"]

SUCCESS: Final = "The service request is processed successfully."
BAD_INITIATOR: Final = ("2001", "The initiator information is invalid.")
NOT_PERMITTED: Final = ("2028", "The request is not permitted according to product assignment.")
UNKNOWN_TRANSACTION: Final = ("R000002", "The OriginalTransactionID is invalid.")
BALANCE_QUEUE: Final = "https://internalsandbox.safaricom.co.ke/mpesa/abresults/v1/submit"
REVERSAL_QUEUE: Final = "https://internalsandbox.safaricom.co.ke/mpesa/reversalresults/v1/submit"

Parameters = list[dict[str, Any]]


def _declined(name_of: Callable[[str], str], b2c: B2CTransaction) -> Receipt:
    """A B2C that moved no money, as Transaction Status describes it."""
    return Receipt(
        receipt=b2c.transaction_id,
        kind="b2c",
        amount_cents=b2c.amount_cents,
        shortcode=b2c.shortcode,
        phone=b2c.phone,
        name=name_of(b2c.phone),
        at=b2c.created_at,
        status="Declined",
        originator_conversation_id=b2c.originator_conversation_id,
        conversation_id=b2c.conversation_id,
    )


class OrgApi(ApiGroup):
    """Transaction Status, Account Balance and Reversal."""

    def apis(self) -> dict[str, Api]:
        return {
            "/mpesa/transactionstatus/v1/query": Api("POST", self.transaction_status, ORG_TOKEN),
            "/mpesa/accountbalance/v1/query": Api("POST", self.account_balance, ORG_TOKEN),
            "/mpesa/reversal/v1/request": Api("POST", self.reversal, ORG_TOKEN),
        }

    def _org_request(self, body: dict[str, Any], command: str) -> tuple[bool, str]:
        """Common checks; returns (credential ok, result URL)."""
        initiator = need_text(body, "Initiator")
        credential = need_text(body, "SecurityCredential")
        if need_text(body, "CommandID") != command:
            raise bad("CommandID")
        result_url = need_url(body, "ResultURL")
        need_url(body, "QueueTimeOutURL")
        return self.state.check_credential(initiator, credential), result_url

    def _result(
        self,
        ids: tuple[str, str],
        outcome: tuple[str, str],
        parameters: Parameters | None,
        reference: dict[str, Any],
    ) -> dict[str, Any]:
        """The `Result` envelope for (originator, conversation) ids and (code, text)."""
        (originator, conversation), (code, desc) = ids, outcome
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": code_value(code),
            "ResultDesc": desc,
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "TransactionID": self.state.new_receipt(),
        }
        if parameters is not None:
            result["ResultParameters"] = {"ResultParameter": parameters}
        result["ReferenceData"] = {"ReferenceItem": reference}
        return {"Result": result}

    def _new_ids(self) -> tuple[str, str]:
        return self.state.new_originator_id(), self.state.new_conversation_id()

    # --- Transaction Status --------------------------------------------------------------------

    async def transaction_status(self, _: Request, body: dict[str, Any]) -> Response:
        ok, result_url = self._org_request(body, "TransactionStatusQuery")
        transaction_id = str(body.get("TransactionID") or "").strip()
        original = str(body.get("OriginalConversationID") or "").strip()
        if not transaction_id and not original:
            raise bad("TransactionID")
        need_digits(body, "PartyA")
        need_digits(body, "IdentifierType")
        need_remarks(body)
        reference = {"Key": "Occasion", "Value": str(body.get("Occasion") or "")}
        ids = self._new_ids()
        if not ok:
            payload = self._result(ids, BAD_INITIATOR, None, reference)
        else:
            found = self._find(transaction_id, original)
            if found is None:
                payload = self._result(ids, UNKNOWN_TRANSACTION, None, reference)
            else:
                params = self._status_parameters(ids, found)
                payload = self._result(ids, ("0", SUCCESS), params, reference)
        self.send_later("transaction_status", result_url, payload)
        return accepted(*ids)

    def _find(self, transaction_id: str, original: str) -> Receipt | None:
        """The movement asked about, by receipt or B2C ids; a declined B2C is one too."""
        state = self.state
        receipt = state.receipts.get(transaction_id) if transaction_id else None
        b2c = state.b2c.get(original) if original else None
        if b2c is None and receipt is None and transaction_id:
            b2c = next((t for t in state.b2c.values() if t.transaction_id == transaction_id), None)
        if b2c is None:
            return receipt
        settle_b2c(state, b2c)
        return state.receipts.get(b2c.transaction_id) or _declined(state.customer_name, b2c)

    def _status_parameters(self, ids: tuple[str, str], receipt: Receipt) -> Parameters:
        """What Transaction Status says of a money movement."""
        org = f"{receipt.shortcode} - {ORG_NAME}"
        person = f"{receipt.phone} - {receipt.name}"
        outgoing = receipt.kind == "b2c"
        status = "Reversed" if receipt.reversed else receipt.status
        amount, at, number = receipt.amount_cents, receipt.at, receipt.receipt
        conv = receipt.conversation_id or ids[1]
        orig = receipt.originator_conversation_id or ids[0]
        stamp = int(daraja_timestamp(at))
        return [
            {"Key": "DebitPartyName", "Value": org if outgoing else person},
            {"Key": "CreditPartyName", "Value": person if outgoing else org},
            {"Key": "OriginatorConversationID", "Value": orig},
            {"Key": "InitiatedTime", "Value": stamp},
            {"Key": "FinalisedTime", "Value": stamp},
            {"Key": "DebitAccountType", "Value": "Utility Account" if outgoing else "Customer"},
            {"Key": "DebitPartyCharges", "Value": ""},
            {"Key": "TransactionReason"},
            {
                "Key": "ReasonType",
                "Value": "Business Payment to Customer via API" if outgoing else "Pay Bill Online",
            },
            {"Key": "TransactionStatus", "Value": status},
            {"Key": "Amount", "Value": amount_number(amount)},
            {"Key": "ConversationID", "Value": conv},
            {"Key": "ReceiptNo", "Value": number},
        ]

    # --- Account Balance -----------------------------------------------------------------------

    async def account_balance(self, _: Request, body: dict[str, Any]) -> Response:
        ok, result_url = self._org_request(body, "AccountBalance")
        shortcode = need_digits(body, "PartyA")
        need_digits(body, "IdentifierType")
        need_remarks(body)
        ids = self._new_ids()
        reference = {"Key": "QueueTimeoutURL", "Value": BALANCE_QUEUE}
        account = self.state.accounts.get(shortcode)
        if not ok:
            payload = self._result(ids, BAD_INITIATOR, None, reference)
        elif account is None:
            payload = self._result(ids, NOT_PERMITTED, None, reference)
        else:
            with self.state.lock:
                balance = account.balance_string()
            params: Parameters = [
                {"Key": "AccountBalance", "Value": balance},
                {"Key": "BOCompletedTime", "Value": int(daraja_timestamp(self.state.now()))},
            ]
            outcome = ("0", "The service request is processed successfully")
            payload = self._result(ids, outcome, params, reference)
        self.send_later("account_balance", result_url, payload)
        return accepted(*ids)

    # --- Reversal ------------------------------------------------------------------------------

    async def reversal(self, _: Request, body: dict[str, Any]) -> Response:
        ok, result_url = self._org_request(body, "TransactionReversal")
        transaction_id = need_text(body, "TransactionID")
        amount_cents = need_whole_amount(body)
        receiver = need_digits(body, "ReceiverParty")
        if str(body.get("RecieverIdentifierType", "11")) not in ("11", "4"):
            raise bad("RecieverIdentifierType")
        need_remarks(body)
        ids = self._new_ids()
        with self.state.lock:
            receipt = self.state.receipts.get(transaction_id)
            if not ok:
                outcome, params = BAD_INITIATOR, None
            elif (
                receipt is None
                or receipt.kind not in ("stk", "c2b")
                or receipt.shortcode != receiver
                or receipt.amount_cents != amount_cents
            ):
                outcome, params = UNKNOWN_TRANSACTION, None
            elif receipt.reversed:
                outcome, params = ("R000001", "The transaction has already been reversed."), None
            else:
                outcome, params = ("0", SUCCESS), self._reverse(receipt)
        reference = {"Key": "QueueTimeoutURL", "Value": REVERSAL_QUEUE}
        self.send_later("reversal", result_url, self._result(ids, outcome, params, reference))
        return accepted(*ids)

    def _reverse(self, receipt: Receipt) -> Parameters:
        """Give the customer the money back; the result parameters of the reversal."""
        state = self.state
        receipt.reversed = True
        account = state.account_for(receipt.shortcode)
        account.utility -= receipt.amount_cents
        state.wallets[receipt.phone] = state.wallet(receipt.phone) + receipt.amount_cents
        utility = amount_text(account.utility)
        return [
            {
                "Key": "DebitAccountBalance",
                "Value": f"Utility Account|KES|{utility}|{utility}|0.00|0.00",
            },
            {"Key": "Amount", "Value": amount_number(receipt.amount_cents)},
            {"Key": "TransCompletedTime", "Value": int(daraja_timestamp(state.now()))},
            {"Key": "OriginalTransactionID", "Value": receipt.receipt},
            {"Key": "Charge", "Value": 0},
            {"Key": "CreditPartyPublicName", "Value": f"{receipt.phone} - {receipt.name}"},
            {"Key": "DebitPartyPublicName", "Value": f"{receipt.shortcode} - {ORG_NAME}"},
        ]
