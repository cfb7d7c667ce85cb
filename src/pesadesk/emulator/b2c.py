"""B2C payouts (`/mpesa/b2c/v1|v3/paymentrequest`): the money leaves the utility account.

v3 takes the caller's OriginatorConversationID (a repeat is `500.002.1001`); v1 makes
its own. The result goes to `ResultURL`, or (timeout scenario) only a queue timeout to
`QueueTimeOutURL`, while Transaction Status still tells the truth.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from pesadesk.core.clock import EAT
from pesadesk.emulator.base import Api, ApiGroup, accepted
from pesadesk.emulator.formats import amount_number, code_value
from pesadesk.emulator.records import Account, B2CTransaction, Receipt
from pesadesk.emulator.state import EmulatorState
from pesadesk.emulator.stk import MAX_CUSTOMER_CENTS
from pesadesk.emulator.validation import (
    ORG_TOKEN,
    Reject,
    bad,
    need_digits,
    need_msisdn,
    need_remarks,
    need_text,
    need_url,
    need_whole_amount,
)

__all__ = ["B2CApi", "settle_b2c"]

B2C_MIN_CENTS: Final = 10_00
B2C_QUEUE: Final = "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"
SUCCESS: Final = "The service request is processed successfully."


def _outcome(txn: B2CTransaction, account: Account | None) -> tuple[str, str]:
    """The result code and text: credentials, product, limits, scenario, then funds."""
    scenario = txn.scenario
    if not txn.credential_ok:
        return "2001", "The initiator information is invalid."
    if account is None:
        return "2028", "The request is not permitted according to product assignment."
    if txn.amount_cents < B2C_MIN_CENTS:
        return "2", "Declined due to limit rule: less than the minimum transaction amount."
    if txn.amount_cents > MAX_CUSTOMER_CENTS:
        return "3", "Declined due to limit rule: greater than the maximum transaction amount."
    if scenario.applies_to_b2c and not (scenario.succeeds or scenario.b2c_queue_timeout):
        return scenario.result_code, scenario.result_desc
    if account.utility < txn.amount_cents:
        return "1", "The balance is insufficient for the transaction."
    return "0", SUCCESS


def settle_b2c(state: EmulatorState, txn: B2CTransaction) -> None:
    """Decide the payout and move the money; does nothing the second time."""
    with state.lock:
        if txn.result_code is not None:
            return
        account = state.accounts.get(txn.shortcode)
        code, desc = _outcome(txn, account)
        txn.transaction_id = state.new_receipt()
        txn.completed_at = state.now()
        if code == "0" and account is not None:
            account.utility -= txn.amount_cents
            state.wallets[txn.phone] = state.wallet(txn.phone) + txn.amount_cents
            state.record_receipt(
                Receipt(
                    receipt=txn.transaction_id,
                    kind="b2c",
                    amount_cents=txn.amount_cents,
                    shortcode=txn.shortcode,
                    phone=txn.phone,
                    name=state.customer_name(txn.phone),
                    at=txn.completed_at,
                    originator_conversation_id=txn.originator_conversation_id,
                    conversation_id=txn.conversation_id,
                )
            )
        txn.result_code, txn.result_desc = code, desc


class B2CApi(ApiGroup):
    """B2C v1 and v3 payment requests and their asynchronous results."""

    def apis(self) -> dict[str, Api]:
        return {
            "/mpesa/b2c/v1/paymentrequest": Api("POST", self.payment, ORG_TOKEN),
            "/mpesa/b2c/v3/paymentrequest": Api("POST", self.payment, ORG_TOKEN),
        }

    def _read(self, body: dict[str, Any], v3: bool) -> dict[str, Any]:
        """Daraja's field checks; the fields a B2CTransaction needs from the request."""
        originator = need_text(body, "OriginatorConversationID") if v3 else ""
        initiator = need_text(body, "InitiatorName")
        credential = need_text(body, "SecurityCredential")
        command = need_text(body, "CommandID")
        if command not in ("BusinessPayment", "SalaryPayment", "PromotionPayment"):
            raise bad("CommandID")
        amount_cents = need_whole_amount(body)
        shortcode = need_digits(body, "PartyA")
        phone = need_msisdn(body, "PartyB")
        need_remarks(body)
        timeout_url = need_url(body, "QueueTimeOutURL")
        result_url = need_url(body, "ResultURL")
        return {
            "originator_conversation_id": originator,
            "shortcode": shortcode,
            "phone": phone,
            "amount_cents": amount_cents,
            "command_id": command,
            "result_url": result_url,
            "timeout_url": timeout_url,
            "occasion": str(body.get("Occassion") or body.get("Occasion") or ""),
            "credential_ok": self.state.check_credential(initiator, credential),
        }

    async def payment(self, request: Request, body: dict[str, Any]) -> Response:
        v3 = "/v3/" in request.url.path
        fields = self._read(body, v3)
        scenario = self.state.scenario_for(fields["phone"])
        if scenario.http_error:
            raise Reject(scenario.http_error, "500.003.1001", "Internal Server Error")
        state = self.state
        with state.lock:
            if not v3:
                fields["originator_conversation_id"] = state.new_originator_id()
            originator = fields["originator_conversation_id"]
            if originator in state.b2c:
                raise Reject(500, "500.002.1001", "Duplicate OriginatorConversationID.")
            conversation = state.new_conversation_id()
            txn = B2CTransaction(
                **fields, conversation_id=conversation, scenario=scenario, created_at=state.now()
            )
            state.b2c[originator] = txn
            state.b2c_by_conversation[conversation] = originator
        self.dispatcher.later(self.config.callback_delay_seconds, lambda: self._resolved(txn))
        return accepted(originator, conversation)

    def result_payload(self, txn: B2CTransaction) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": code_value(txn.result_code or ""),
            "ResultDesc": txn.result_desc,
            "OriginatorConversationID": txn.originator_conversation_id,
            "ConversationID": txn.conversation_id,
            "TransactionID": txn.transaction_id,
        }
        account = self.state.accounts.get(txn.shortcode)
        if txn.result_code == "0" and account is not None and txn.completed_at is not None:
            result["ResultParameters"] = {"ResultParameter": self._parameters(txn, account)}
        result["ReferenceData"] = {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": B2C_QUEUE}}
        return {"Result": result}

    def _parameters(self, txn: B2CTransaction, account: Account) -> list[dict[str, Any]]:
        name = self.state.customer_name(txn.phone)
        completed = txn.completed_at.astimezone(EAT) if txn.completed_at else None
        return [
            {"Key": "TransactionAmount", "Value": amount_number(txn.amount_cents)},
            {"Key": "TransactionReceipt", "Value": txn.transaction_id},
            {"Key": "ReceiverPartyPublicName", "Value": f"{txn.phone} - {name}"},
            {
                "Key": "TransactionCompletedDateTime",
                "Value": completed.strftime("%d.%m.%Y %H:%M:%S") if completed else "",
            },
            {"Key": "B2CUtilityAccountAvailableFunds", "Value": amount_number(account.utility)},
            {"Key": "B2CWorkingAccountAvailableFunds", "Value": amount_number(account.working)},
            {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
            {
                "Key": "B2CChargesPaidAccountAvailableFunds",
                "Value": amount_number(account.charges_paid),
            },
        ]

    def timeout_payload(self, txn: B2CTransaction) -> dict[str, Any]:
        """Undocumented at Safaricom; libraries expect a `Result` envelope like this one."""
        return {
            "Result": {
                "ResultType": 1,
                "ResultCode": 1037,
                "ResultDesc": "The request timed out in the M-Pesa queue.",
                "OriginatorConversationID": txn.originator_conversation_id,
                "ConversationID": txn.conversation_id,
                "TransactionID": "",
            }
        }

    async def _resolved(self, txn: B2CTransaction) -> None:
        settle_b2c(self.state, txn)
        scenario = txn.scenario
        timeout = scenario.b2c_queue_timeout

        async def send() -> None:
            if timeout:
                payload, url, kind = self.timeout_payload(txn), txn.timeout_url, "b2c_timeout"
            else:
                payload, url, kind = self.result_payload(txn), txn.result_url, "b2c_result"
            for _ in range(scenario.callback_copies):
                await self.dispatcher.post(kind, url, payload)

        if scenario.callback_copies:
            self.dispatcher.later(scenario.callback_delay or 0.0, send)
