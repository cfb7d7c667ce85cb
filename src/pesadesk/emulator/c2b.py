"""C2B: register URLs (v1 and v2) and simulate a customer paying a Paybill or till.

A simulated payment goes as at Safaricom: the validation request first (as if external
validation were enabled), then, if accepted and the wallet holds the money, the
confirmation; both carry the BusinessShortCode simulated. v1 registrations get a SHA-256
hashed MSISDN, v2 a masked one. A shortcode whose app lacks the v2 product answers v2
with Daraja's 401 "no apiproduct match found".
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pesadesk.core.clock import daraja_timestamp
from pesadesk.daraja.result_codes import code_str
from pesadesk.emulator.base import ACCEPTED, Api, ApiGroup
from pesadesk.emulator.formats import amount_text
from pesadesk.emulator.records import C2BRegistration, Receipt
from pesadesk.emulator.scenarios import Scenario
from pesadesk.emulator.validation import (
    C2B_TOKEN,
    Reject,
    bad,
    need_digits,
    need_msisdn,
    need_text,
    need_url,
    need_whole_amount,
    product_mismatch,
)

__all__ = ["C2BApi", "C2BPayment"]


@dataclass(frozen=True)
class C2BPayment:
    """One simulated customer payment on its way through validation and confirmation."""

    registration: C2BRegistration
    trans_id: str
    phone: str
    amount_cents: int
    bill_ref: str
    command: str
    at: datetime


def _version(request: Request) -> str:
    return "v2" if "/v2/" in request.url.path else "v1"


class C2BApi(ApiGroup):
    """C2B register and simulate; the payments move money and are known by receipt."""

    def apis(self) -> dict[str, Api]:
        return {
            "/mpesa/c2b/v1/registerurl": Api("POST", self.register, C2B_TOKEN),
            "/mpesa/c2b/v2/registerurl": Api("POST", self.register, C2B_TOKEN),
            "/mpesa/c2b/v1/simulate": Api("POST", self.simulate, C2B_TOKEN),
            "/mpesa/c2b/v2/simulate": Api("POST", self.simulate, C2B_TOKEN),
        }

    def _check_product(self, shortcode: str, version: str) -> None:
        merchant = self.state.merchant(shortcode)
        if merchant is not None and not merchant.accepts_c2b(version):
            raise product_mismatch()

    async def register(self, request: Request, body: dict[str, Any]) -> Response:
        shortcode = need_digits(body, "ShortCode")
        version = _version(request)
        self._check_product(shortcode, version)
        response_type = need_text(body, "ResponseType")
        if response_type not in ("Completed", "Cancelled"):
            raise bad("ResponseType")
        confirmation = need_url(body, "ConfirmationURL", c2b=True)
        validation = need_url(body, "ValidationURL", c2b=True)
        with self.state.lock:
            self.state.c2b_registrations[shortcode] = C2BRegistration(
                shortcode, confirmation, validation, response_type, version
            )
            self.state.account_for(shortcode)
        return JSONResponse(
            {
                "OriginatorCoversationID": self.state.new_originator_id(),
                "ResponseCode": "0",
                "ResponseDescription": "success",
            }
        )

    async def simulate(self, request: Request, body: dict[str, Any]) -> Response:
        shortcode = need_digits(body, "ShortCode")
        self._check_product(shortcode, _version(request))
        command = need_text(body, "CommandID")
        if command not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
            raise bad("CommandID")
        amount_cents = need_whole_amount(body)
        phone = need_msisdn(body, "Msisdn")
        bill_ref = body.get("BillRefNumber")
        if bill_ref is not None and not isinstance(bill_ref, str | int):
            raise bad("BillRefNumber")
        scenario = self.state.scenario_for(phone)
        if scenario.http_error:
            raise Reject(scenario.http_error, "500.003.1001", "Internal Server Error")
        registration = self.state.c2b_registrations.get(shortcode)
        if registration is not None:
            payment = C2BPayment(
                registration=registration,
                trans_id="",  # given when the customer actually pays
                phone=phone,
                amount_cents=amount_cents,
                bill_ref="" if bill_ref is None else str(bill_ref),
                command=command,
                at=self.state.now(),
            )
            self.dispatcher.spawn(self._flow(payment, scenario))
        return JSONResponse(
            {
                "OriginatorCoversationID": self.state.new_originator_id(),
                "ResponseCode": "0",
                "ResponseDescription": ACCEPTED,
            }
        )

    def payload(
        self, payment: C2BPayment, *, org_balance: str = "", third_party: str = ""
    ) -> dict[str, Any]:
        """Validation and confirmation body; MSISDN hashed (v1) or masked (v2)."""
        registration, phone = payment.registration, payment.phone
        body: dict[str, Any] = {
            "TransactionType": (
                "Pay Bill" if payment.command == "CustomerPayBillOnline" else "Buy Goods"
            ),
            "TransID": payment.trans_id,
            "TransTime": daraja_timestamp(payment.at),
            "TransAmount": amount_text(payment.amount_cents),
            "BusinessShortCode": registration.shortcode,
            "BillRefNumber": payment.bill_ref,
            "InvoiceNumber": "",
            "OrgAccountBalance": org_balance,
            "ThirdPartyTransID": third_party,
        }
        name = self.state.customer_name(phone)
        if registration.version == "v2":
            body["MSISDN"] = f"{phone[:4]} ***** {phone[-3:]}"
            body.update({"FirstName": name, "MiddleName": "", "LastName": ""})
        else:
            body["MSISDN"] = hashlib.sha256(phone.encode()).hexdigest()
            body["FirstName"] = name
        return body

    async def _flow(self, asked: C2BPayment, scenario: Scenario) -> None:
        """Validation, then (if accepted) the money, then the confirmation."""
        generation = self.state.generation
        delay = self.config.callback_delay_seconds
        if delay:
            await asyncio.sleep(delay)
        if not scenario.succeeds or self.state.generation != generation:
            return  # the customer's payment failed inside M-Pesa: the business hears nothing
        payment = replace(asked, trans_id=self.state.new_receipt(), at=self.state.now())
        third_party = await self._validated(payment)
        if third_party is None or self.state.generation != generation:
            return
        balance = self._credit(payment)
        if balance is None:
            return
        confirmation = self.payload(payment, org_balance=balance, third_party=third_party)
        if scenario.callback_delay:
            await asyncio.sleep(scenario.callback_delay)
        if self.state.generation != generation:
            return
        url = payment.registration.confirmation_url
        for _ in range(scenario.callback_copies):
            await self.dispatcher.post("c2b_confirmation", url, confirmation)

    async def _validated(self, payment: C2BPayment) -> str | None:
        """The ThirdPartyTransID the business answered, or None when it refused."""
        registration = payment.registration
        validation = await self.dispatcher.post(
            "c2b_validation", registration.validation_url, self.payload(payment)
        )
        answer = validation.response if isinstance(validation.response, dict) else {}
        if validation.status_code is None or validation.status_code >= 500:
            accepted = registration.response_type == "Completed"
        else:
            accepted = code_str(answer.get("ResultCode")) == "0"
        return str(answer.get("ThirdPartyTransID") or "") if accepted else None

    def _credit(self, payment: C2BPayment) -> str | None:
        """Move the money; the business's new utility balance, or None if the wallet is short."""
        state = self.state
        shortcode = payment.registration.shortcode
        with state.lock:
            if state.wallet(payment.phone) < payment.amount_cents:
                return None
            state.wallets[payment.phone] = state.wallet(payment.phone) - payment.amount_cents
            account = state.account_for(shortcode)
            account.utility += payment.amount_cents
            state.record_receipt(
                Receipt(
                    receipt=payment.trans_id,
                    kind="c2b",
                    amount_cents=payment.amount_cents,
                    shortcode=shortcode,
                    phone=payment.phone,
                    name=state.customer_name(payment.phone),
                    at=payment.at,
                    bill_ref=payment.bill_ref,
                )
            )
            return amount_text(account.utility)
