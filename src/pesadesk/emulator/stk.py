"""M-Pesa Express: STK Push (`/mpesa/stkpush/v1/processrequest`) and STK Query.

Each merchant shortcode has its own passkey. The Password is checked against the
Timestamp as sent, whatever zone the caller's clock is in (Daraja accepts that); a
Timestamp far from Nairobi time is logged as a clock skew, never refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pesadesk.core.clock import DARAJA_FORMAT, EAT, daraja_timestamp
from pesadesk.daraja.client import stk_password
from pesadesk.emulator.base import Api, ApiGroup
from pesadesk.emulator.config import Merchant
from pesadesk.emulator.formats import amount_number, code_value
from pesadesk.emulator.records import Receipt, StkTransaction
from pesadesk.emulator.scenarios import Scenario
from pesadesk.emulator.state import EmulatorState
from pesadesk.emulator.validation import (
    STK_TOKEN,
    Reject,
    bad,
    need_digits,
    need_msisdn,
    need_text,
    need_url,
    need_whole_amount,
)

__all__ = ["MAX_CUSTOMER_CENTS", "StkApi", "check_stk_credentials", "likely_utc_offset"]

log = structlog.get_logger(__name__)

STK_ACCEPTED: Final = "Success. Request accepted for processing"
MAX_CUSTOMER_CENTS: Final = 250_000_00
NOT_PERMITTED: Final = "The request is not permitted according to product assignment."
_ZONES_MINUTES: Final = range(-12 * 60, 14 * 60 + 1, 15)  # UTC-12:00 .. UTC+14:00


def likely_utc_offset(stamped_as_eat: datetime, now: datetime) -> str | None:
    """The zone a Timestamp was most likely written in (`UTC+00:00`), from its skew."""
    skew_minutes = (stamped_as_eat - now).total_seconds() / 60
    offset = 180 + round(skew_minutes / 15) * 15
    if offset not in _ZONES_MINUTES:
        return None
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def check_stk_credentials(state: EmulatorState, body: dict[str, Any]) -> Merchant:
    """The merchant whose passkey built the Password from the Timestamp as sent."""
    shortcode = need_digits(body, "BusinessShortCode")
    password = need_text(body, "Password")
    timestamp = need_digits(body, "Timestamp")
    try:
        if len(timestamp) != len("YYYYMMDDHHmmss"):
            raise ValueError(timestamp)
        stamped = datetime.strptime(timestamp, DARAJA_FORMAT).replace(tzinfo=EAT)
    except ValueError:
        raise bad("Timestamp") from None
    merchant = state.merchant(shortcode)
    if merchant is None:
        raise Reject(500, "500.001.1001", "Merchant does not exist")
    expected = stk_password(shortcode, merchant.passkey, timestamp)
    if not secrets.compare_digest(password, expected):
        raise Reject(500, "500.001.1001", "Wrong credentials")
    now = state.now()
    skew = (stamped - now).total_seconds()
    tolerance = state.config.timestamp_tolerance_seconds
    if tolerance is not None and abs(skew) > tolerance:
        log.warning(
            "emulator_stk_timestamp_skew",
            shortcode=shortcode,
            skew_seconds=round(skew),
            likely_utc_offset=likely_utc_offset(stamped, now),
        )
    return merchant


@dataclass(frozen=True)
class PushRequest:
    """An STK Push body that passed Daraja's field checks."""

    transaction_type: str
    amount_cents: int
    party_b: str
    phone: str
    callback_url: str
    account_reference: str


def read_push(body: dict[str, Any]) -> PushRequest:
    """Daraja's field checks, in the order it reports them."""
    need_digits(body, "BusinessShortCode")
    need_text(body, "Password")
    transaction_type = need_text(body, "TransactionType")
    if transaction_type not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
        raise bad("TransactionType")
    amount_cents = need_whole_amount(body)
    need_msisdn(body, "PartyA")
    party_b = need_digits(body, "PartyB")
    phone = need_msisdn(body, "PhoneNumber")
    callback_url = need_url(body, "CallBackURL")
    if body.get("TransactionDesc") is None:
        raise bad("Remarks")
    account_reference = need_text(body, "AccountReference", max_len=12)
    need_text(body, "TransactionDesc", max_len=13)
    return PushRequest(
        transaction_type, amount_cents, party_b, phone, callback_url, account_reference
    )


class StkApi(ApiGroup):
    """STK Push and Query over the merchants' shortcodes and the customers' wallets."""

    def apis(self) -> dict[str, Api]:
        return {
            "/mpesa/stkpush/v1/processrequest": Api("POST", self.push, STK_TOKEN),
            "/mpesa/stkpushquery/v1/query": Api("POST", self.query, STK_TOKEN),
        }

    async def push(self, _: Request, body: dict[str, Any]) -> Response:
        asked = read_push(body)
        merchant = check_stk_credentials(self.state, body)
        scenario = self.state.scenario_for(asked.phone)
        if scenario.http_error:
            raise Reject(scenario.http_error, "500.003.1001", "Internal Server Error")
        txn = self._open(asked, merchant.shortcode, scenario)
        self.dispatcher.later(self.config.callback_delay_seconds, lambda: self._resolved(txn))
        return JSONResponse(
            {
                "MerchantRequestID": txn.merchant_request_id,
                "CheckoutRequestID": txn.checkout_request_id,
                "ResponseCode": "0",
                "ResponseDescription": STK_ACCEPTED,
                "CustomerMessage": STK_ACCEPTED,
            }
        )

    def _open(self, asked: PushRequest, shortcode: str, scenario: Scenario) -> StkTransaction:
        """Record the prompt (refused while another one waits, when so configured)."""
        state, phone, now = self.state, asked.phone, self.state.now()
        with state.lock:
            if self.config.lock_subscriber and any(
                t.phone == phone and not t.final for t in state.stk.values()
            ):
                raise Reject(
                    500,
                    "500.001.1001",
                    "Unable to lock subscriber, a transaction is already in process for "
                    "the current subscriber",
                )
            checkout = state.new_checkout_request_id(phone)
            txn = StkTransaction(
                checkout_request_id=checkout,
                merchant_request_id=state.new_request_id(),
                shortcode=shortcode,
                party_b=asked.party_b,
                phone=phone,
                amount_cents=asked.amount_cents,
                callback_url=asked.callback_url,
                account_reference=asked.account_reference,
                transaction_type=asked.transaction_type,
                scenario=scenario,
                created_at=now,
                resolve_at=state.monotonic() + self.config.callback_delay_seconds,
            )
            state.stk[checkout] = txn
        return txn

    def _outcome(self, txn: StkTransaction) -> tuple[str, str, str]:
        """(code, callback text, query text): the scenario, unless the rules refuse first."""
        scenario = txn.scenario
        code, desc = scenario.result_code, scenario.result_desc
        query_desc = scenario.query_desc or desc
        if not scenario.succeeds:
            return code, desc, query_desc
        merchant = self.state.merchant(txn.shortcode)
        if merchant is None or not merchant.takes(txn.transaction_type, txn.party_b):
            return "2028", NOT_PERMITTED, NOT_PERMITTED
        if txn.amount_cents > MAX_CUSTOMER_CENTS:
            limit = "Declined due to limit rule: greater than the maximum transaction amount."
            return "3", limit, limit
        if self.state.wallet(txn.phone) < txn.amount_cents:
            poor = "The balance is insufficient for the transaction."
            return "1", poor, poor
        return code, desc, query_desc

    def finalize(self, txn: StkTransaction) -> None:
        """Decide how the prompt ended and move the money; does nothing the second time."""
        state = self.state
        with state.lock:
            if txn.final:
                return
            code, desc, query_desc = self._outcome(txn)
            if code == "0":
                state.wallets[txn.phone] = state.wallet(txn.phone) - txn.amount_cents
                state.account_for(txn.shortcode).utility += txn.amount_cents
                txn.receipt = state.new_receipt()
                txn.completed_at = state.now()
                state.record_receipt(
                    Receipt(
                        receipt=txn.receipt,
                        kind="stk",
                        amount_cents=txn.amount_cents,
                        shortcode=txn.shortcode,
                        phone=txn.phone,
                        name=state.customer_name(txn.phone),
                        at=txn.completed_at,
                        bill_ref=txn.account_reference,
                    )
                )
            txn.result_code, txn.result_desc, txn.query_desc = code, desc, query_desc

    def callback_payload(self, txn: StkTransaction) -> dict[str, Any]:
        callback: dict[str, Any] = {
            "MerchantRequestID": txn.merchant_request_id,
            "CheckoutRequestID": txn.checkout_request_id,
            "ResultCode": code_value(txn.result_code or ""),
            "ResultDesc": txn.result_desc,
        }
        if txn.result_code == "0" and txn.completed_at is not None:
            items: list[dict[str, Any]] = [
                {"Name": "Amount", "Value": amount_number(txn.amount_cents)},
                {"Name": "MpesaReceiptNumber", "Value": txn.receipt},
            ]
            if self.config.stk_balance_item:
                items.append({"Name": "Balance"})
            items += [
                {"Name": "TransactionDate", "Value": int(daraja_timestamp(txn.completed_at))},
                {"Name": "PhoneNumber", "Value": int(txn.phone)},
            ]
            callback["CallbackMetadata"] = {"Item": items}
        return {"Body": {"stkCallback": callback}}

    async def _resolved(self, txn: StkTransaction) -> None:
        self.finalize(txn)
        scenario = txn.scenario

        async def send() -> None:
            payload = self.callback_payload(txn)
            for _ in range(scenario.callback_copies):
                await self.dispatcher.post(
                    "stk", txn.callback_url, payload, headers={"Businessshortcode": txn.shortcode}
                )

        if scenario.callback_copies:
            self.dispatcher.later(scenario.callback_delay or 0.0, send)

    async def query(self, _: Request, body: dict[str, Any]) -> Response:
        check_stk_credentials(self.state, body)
        checkout = need_text(body, "CheckoutRequestID")
        txn = self.state.stk.get(checkout)
        if txn is None:
            raise Reject(500, "500.001.1001", "The transaction does not Exist")
        if not txn.final:
            if self.state.monotonic() < txn.resolve_at:
                raise Reject(
                    500, "500.001.1001", "The transaction is being processed", request_id=checkout
                )
            self.finalize(txn)
        return JSONResponse(
            {
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successfully",
                "MerchantRequestID": txn.merchant_request_id,
                "CheckoutRequestID": txn.checkout_request_id,
                "ResultCode": txn.result_code,
                "ResultDesc": txn.query_desc,
            }
        )
