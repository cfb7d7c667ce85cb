"""M-Pesa Express: STK Push (money, sent once) and STK Query (a lookup, retried)."""

from __future__ import annotations

import base64
from typing import Final

from pesadesk.core.phone import normalize_phone
from pesadesk.daraja.base import (
    STK_PUSH_PATH,
    STK_QUERY_PATH,
    DarajaBase,
    check_length,
    envelope_of,
    required,
    secret,
    shillings,
)
from pesadesk.daraja.result_codes import stk_status
from pesadesk.daraja.schemas import (
    StkPushRequest,
    StkPushResponse,
    StkQueryRequest,
    StkQueryResponse,
    StkQueryResult,
)

__all__ = ["ACCOUNT_REFERENCE_MAX", "TRANSACTION_DESC_MAX", "StkApi", "stk_password"]

ACCOUNT_REFERENCE_MAX: Final = 12
TRANSACTION_DESC_MAX: Final = 13


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """`base64(shortcode + passkey + timestamp)`, plain concatenation (reference §3)."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")


class StkApi(DarajaBase):
    """STK Push and STK Query."""

    def _stk_credentials(self) -> tuple[str, str, str]:
        shortcode = required(self.config.shortcode, "payments.mpesa.shortcode")
        passkey = secret(self.config.passkey, "payments.mpesa.passkey")
        timestamp = self._timestamp()
        return shortcode, stk_password(shortcode, passkey, timestamp), timestamp

    async def stk_push(
        self,
        *,
        phone: str,
        amount_cents: int,
        account_reference: str,
        description: str,
        callback_url: str | None = None,
    ) -> StkPushResponse:
        """Send the PIN prompt. Sent once: no answer means ask STK Query, never resend."""
        check_length("AccountReference", account_reference, ACCOUNT_REFERENCE_MAX)
        check_length("TransactionDesc", description, TRANSACTION_DESC_MAX)
        amount = shillings(amount_cents)
        msisdn = normalize_phone(phone)
        callback = required(callback_url or self.config.callback_url, "STK callback URL")
        shortcode, password, timestamp = self._stk_credentials()
        if self.config.transaction_type == "CustomerBuyGoodsOnline":
            party_b = required(self.config.till_number, "payments.mpesa.till_number")
        else:
            party_b = shortcode
        request = StkPushRequest(
            business_short_code=shortcode,
            password=password,
            timestamp=timestamp,
            transaction_type=self.config.transaction_type,
            amount=amount,
            party_a=msisdn,
            party_b=party_b,
            phone_number=msisdn,
            callback_url=callback,
            account_reference=account_reference,
            transaction_desc=description,
        )
        response = await self._post(STK_PUSH_PATH, request, money=True)
        return self._parse(StkPushResponse, response, STK_PUSH_PATH)

    async def stk_query(self, checkout_request_id: str) -> StkQueryResult:
        """Ask how an STK Push ended; "being processed" is a pending answer, not an error."""
        shortcode, password, timestamp = self._stk_credentials()
        request = StkQueryRequest(
            business_short_code=shortcode,
            password=password,
            timestamp=timestamp,
            checkout_request_id=checkout_request_id,
        )
        path = STK_QUERY_PATH
        response = await self._post(path, request, money=False, allow_500=True)
        if response.status_code >= 400:
            envelope = envelope_of(response)
            if "being processed" in (envelope.error_message or "").lower():
                return StkQueryResult(
                    checkout_request_id=checkout_request_id,
                    pending=True,
                    status="processing",
                    result_desc=envelope.error_message or "",
                )
            raise self._error(path, response)
        answer = self._parse(StkQueryResponse, response, path)
        return StkQueryResult(
            checkout_request_id=answer.checkout_request_id or checkout_request_id,
            pending=False,
            status=stk_status(answer.result_code),
            result_code=answer.result_code,
            result_desc=answer.result_desc,
            merchant_request_id=answer.merchant_request_id or None,
        )
