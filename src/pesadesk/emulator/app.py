"""The Daraja emulator as an ASGI app: Daraja's paths, validation, answers and callbacks.

A client written for Safaricom's sandbox works against it by changing only the base URL.
Synchronous answers use Daraja's envelopes (`{"requestId","errorCode","errorMessage"}`);
asynchronous results are POSTed for real to the URLs given, in the background, with the
payload shapes of reference §15. Control endpoints live under `/emulator/` and need no
token. Scenarios (per phone number or set by `POST /emulator/scenarios`) are described
in `scenarios.py` and SCENARIOS.md.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pesadesk.core.clock import DARAJA_FORMAT, EAT, daraja_timestamp
from pesadesk.core.errors import InvalidAmount
from pesadesk.core.money import to_cents
from pesadesk.daraja.client import FORBIDDEN_URL_WORDS, stk_password
from pesadesk.daraja.result_codes import code_str
from pesadesk.emulator.dispatcher import Dispatcher, dumps
from pesadesk.emulator.scenarios import (
    MAGIC_NUMBERS,
    SCENARIOS,
    Scenario,
    UnknownScenario,
    named_scenario,
)
from pesadesk.emulator.state import (
    Account,
    B2CTransaction,
    C2BRegistration,
    EmulatorConfig,
    EmulatorState,
    Receipt,
    StkTransaction,
)

__all__ = ["Emulator", "create_emulator_app"]

ORG_NAME: Final = "Emulator Org"
ACCEPTED: Final = "Accept the service request successfully."
STK_ACCEPTED: Final = "Success. Request accepted for processing"
MAX_CUSTOMER_CENTS: Final = 250_000_00
B2C_MIN_CENTS: Final = 10_00
PULL_WINDOW: Final = timedelta(hours=48)
PULL_PAGE: Final = 1000
_MSISDN = re.compile(r"254[17]\d{8}")
_URL = re.compile(r"https?://[^\s/]+\S*")

TokenStyle = tuple[int, str, str]
STK_TOKEN: Final[TokenStyle] = (404, "404.001.03", "Invalid Access Token")
C2B_TOKEN: Final[TokenStyle] = (400, "400.003.01", "Invalid Access Token")
ORG_TOKEN: Final[TokenStyle] = (401, "401.002.01", "Error Occurred - Invalid Access Token")


class Reject(Exception):
    """A synchronous Daraja error answer."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


def bad(field: str) -> Reject:
    return Reject(400, "400.002.02", f"Bad Request - Invalid {field}")


def _amount_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def _amount_number(cents: int) -> Decimal:
    """Shillings as a JSON number in callbacks (Daraja sends `1.00`, `8959269.60`)."""
    return Decimal(cents) / 100


def _code_value(code: str) -> int | str:
    """Result codes go out as numbers when they are numbers (`0`, `1032`)."""
    return int(code) if code.isdigit() else code


# --- field readers ------------------------------------------------------------------------


def _present(body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise bad(name)
    return value


def need_text(body: dict[str, Any], name: str, *, max_len: int | None = None) -> str:
    value = _present(body, name)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise bad(name)
    text = str(value)
    if max_len is not None and len(text) > max_len:
        raise bad(name)
    return text


def need_digits(body: dict[str, Any], name: str) -> str:
    value = _present(body, name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise bad(name)


def need_msisdn(body: dict[str, Any], name: str) -> str:
    digits = need_digits(body, name)
    if not _MSISDN.fullmatch(digits):
        raise bad(name)
    return digits


def need_whole_amount(body: dict[str, Any], name: str = "Amount") -> int:
    """Whole shillings as cents; a decimal amount is `400.002.02 Invalid Amount`."""
    value = _present(body, name)
    if isinstance(value, bool):
        raise bad(name)
    if isinstance(value, int):
        shillings = value
    elif isinstance(value, str) and value.strip().isdigit():
        shillings = int(value.strip())
    else:  # Decimal (a JSON number with a point), "1.50", anything else
        raise bad(name)
    if shillings < 1:
        raise bad(name)
    return shillings * 100


def need_url(body: dict[str, Any], name: str, *, c2b: bool = False) -> str:
    url = need_text(body, name)
    if not _URL.fullmatch(url):
        raise bad(name)
    if c2b and any(word in url.lower() for word in FORBIDDEN_URL_WORDS):
        raise bad(name)
    return url


def need_remarks(body: dict[str, Any], name: str = "Remarks") -> str:
    text = need_text(body, name)
    if not 2 <= len(text) <= 100:
        raise bad(name)
    return text


@dataclass(frozen=True)
class Api:
    method: str
    handler: Callable[[Request, dict[str, Any]], Awaitable[Response]]
    token: TokenStyle | None


class Emulator:
    """Daraja's behaviour over an `EmulatorState`, sending callbacks with a `Dispatcher`."""

    def __init__(self, state: EmulatorState, dispatcher: Dispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher
        self.apis: dict[str, Api] = {
            "/oauth/v1/generate": Api("GET", self.oauth, None),
            "/mpesa/stkpush/v1/processrequest": Api("POST", self.stk_push, STK_TOKEN),
            "/mpesa/stkpushquery/v1/query": Api("POST", self.stk_query, STK_TOKEN),
            "/mpesa/c2b/v1/registerurl": Api("POST", self.c2b_register, C2B_TOKEN),
            "/mpesa/c2b/v2/registerurl": Api("POST", self.c2b_register, C2B_TOKEN),
            "/mpesa/c2b/v1/simulate": Api("POST", self.c2b_simulate, C2B_TOKEN),
            "/mpesa/c2b/v2/simulate": Api("POST", self.c2b_simulate, C2B_TOKEN),
            "/mpesa/b2c/v1/paymentrequest": Api("POST", self.b2c, ORG_TOKEN),
            "/mpesa/b2c/v3/paymentrequest": Api("POST", self.b2c, ORG_TOKEN),
            "/mpesa/transactionstatus/v1/query": Api("POST", self.transaction_status, ORG_TOKEN),
            "/mpesa/accountbalance/v1/query": Api("POST", self.account_balance, ORG_TOKEN),
            "/mpesa/reversal/v1/request": Api("POST", self.reversal, ORG_TOKEN),
            "/pulltransactions/v1/register": Api("POST", self.pull_register, ORG_TOKEN),
            "/pulltransactions/v1/query": Api("POST", self.pull_query, ORG_TOKEN),
        }

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config

    def error(self, reject: Reject) -> JSONResponse:
        return JSONResponse(
            {
                "requestId": reject.request_id or self.state.new_request_id(),
                "errorCode": reject.code,
                "errorMessage": reject.message,
            },
            status_code=reject.status,
        )

    # --- entry point -------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        path = "/" + request.path_params.get("path", "").strip("/")
        api = self.apis.get(path)
        try:
            if api is None:
                raise Reject(404, "404.001.01", "Resource not found")
            if request.method != api.method:
                raise Reject(405, "405.001", "Method Not Allowed")
            with self.state.lock:
                self.state.request_counts[path] += 1
            if api.token is None:
                return await api.handler(request, {})
            outage = self.state.take_outage()
            if outage is not None:
                raise Reject(outage, "500.003.1001", "Service Unavailable")
            self._check_bearer(request, api.token)
            body = await self._json(request)
            return await api.handler(request, body)
        except Reject as reject:
            return self.error(reject)

    def _check_bearer(self, request: Request, style: TokenStyle) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Reject(404, "404.001.04", "Invalid Authentication Header")
        if not self.state.token_valid(token.strip()):
            raise Reject(*style)

    async def _json(self, request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type.lower():
            raise bad("Content-Type")
        raw = await request.body()
        try:
            body = json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise Reject(400, "400.002.05", "Invalid Request Payload") from None
        if not isinstance(body, dict):
            raise Reject(400, "400.002.05", "Invalid Request Payload")
        return body

    # --- OAuth ---------------------------------------------------------------------------------

    async def oauth(self, request: Request, body: dict[str, Any]) -> Response:
        """Any consumer key and secret get a token; the Basic header must be well formed."""
        if request.query_params.get("grant_type") != "client_credentials":
            raise Reject(400, "400.008.02", "Invalid grant type passed")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise Reject(400, "400.008.01", "Invalid Authentication passed")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Reject(400, "400.008.01", "Invalid Authentication passed") from None
        key, sep, secret = decoded.partition(":")
        if not sep or not key or not secret:
            raise Reject(400, "400.008.01", "Invalid Authentication passed")
        ttl = self.config.token_ttl_seconds
        return JSONResponse(
            {
                "access_token": self.state.issue_token(),
                "expires_in": str(ttl) if self.config.expires_in_as_string else ttl,
            }
        )

    # --- STK Push ------------------------------------------------------------------------------

    def _check_stk_credentials(self, body: dict[str, Any]) -> str:
        shortcode = need_digits(body, "BusinessShortCode")
        password = need_text(body, "Password")
        timestamp = need_digits(body, "Timestamp")
        try:
            stamped = datetime.strptime(timestamp, DARAJA_FORMAT).replace(tzinfo=EAT)
        except ValueError:
            raise bad("Timestamp") from None
        if shortcode != self.config.stk_shortcode:
            raise Reject(500, "500.001.1001", "Merchant does not exist")
        expected = stk_password(shortcode, self.config.passkey, timestamp)
        if not secrets.compare_digest(password, expected):
            raise Reject(500, "500.001.1001", "Wrong credentials")
        tolerance = self.config.timestamp_tolerance_seconds
        if tolerance is not None and abs((self.state.now() - stamped).total_seconds()) > tolerance:
            raise Reject(500, "500.001.1001", "Wrong credentials")
        return shortcode

    async def stk_push(self, _: Request, body: dict[str, Any]) -> Response:
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
        shortcode = self._check_stk_credentials(body)
        scenario = self.state.scenario_for(phone)
        if scenario.http_error:
            raise Reject(scenario.http_error, "500.003.1001", "Internal Server Error")
        now = self.state.now()
        with self.state.lock:
            if self.config.lock_subscriber and any(
                t.phone == phone and not t.final for t in self.state.stk.values()
            ):
                raise Reject(
                    500,
                    "500.001.1001",
                    "Unable to lock subscriber, a transaction is already in process for "
                    "the current subscriber",
                )
            stamp = now.astimezone(EAT)
            checkout = self.state._unique(
                lambda: f"ws_CO_{stamp:%d%m%Y%H%M%S}{secrets.randbelow(1000):03d}{phone[3:]}"
            )
            txn = StkTransaction(
                checkout_request_id=checkout,
                merchant_request_id=self.state.new_request_id(),
                shortcode=shortcode,
                party_b=party_b,
                phone=phone,
                amount_cents=amount_cents,
                callback_url=callback_url,
                account_reference=account_reference,
                transaction_type=transaction_type,
                scenario=scenario,
                created_at=now,
                resolve_at=self.state.monotonic() + self.config.callback_delay_seconds,
            )
            self.state.stk[checkout] = txn
        self.dispatcher.later(self.config.callback_delay_seconds, lambda: self._stk_resolved(txn))
        return JSONResponse(
            {
                "MerchantRequestID": txn.merchant_request_id,
                "CheckoutRequestID": checkout,
                "ResponseCode": "0",
                "ResponseDescription": STK_ACCEPTED,
                "CustomerMessage": STK_ACCEPTED,
            }
        )

    def _finalize_stk(self, txn: StkTransaction) -> None:
        """Decide how the prompt ended and move the money; does nothing the second time."""
        with self.state.lock:
            if txn.final:
                return
            scenario = txn.scenario
            code, desc = scenario.result_code, scenario.result_desc
            query_desc = scenario.query_desc or desc
            if scenario.succeeds:
                if txn.transaction_type == "CustomerPayBillOnline" and txn.party_b != txn.shortcode:
                    code = "2028"
                    desc = query_desc = (
                        "The request is not permitted according to product assignment."
                    )
                elif txn.amount_cents > MAX_CUSTOMER_CENTS:
                    code = "3"
                    desc = query_desc = (
                        "Declined due to limit rule: greater than the maximum transaction amount."
                    )
                elif self.state.wallet(txn.phone) < txn.amount_cents:
                    code = "1"
                    desc = query_desc = "The balance is insufficient for the transaction."
            if code == "0":
                self.state.wallets[txn.phone] = self.state.wallet(txn.phone) - txn.amount_cents
                account = self._account(txn.shortcode)
                account.utility += txn.amount_cents
                txn.receipt = self.state.new_receipt()
                txn.completed_at = self.state.now()
                self.state.record_receipt(
                    Receipt(
                        receipt=txn.receipt,
                        kind="stk",
                        amount_cents=txn.amount_cents,
                        shortcode=txn.shortcode,
                        phone=txn.phone,
                        name=self.state.customer_name(txn.phone),
                        at=txn.completed_at,
                        bill_ref=txn.account_reference,
                    )
                )
            txn.result_code, txn.result_desc, txn.query_desc = code, desc, query_desc

    def _account(self, shortcode: str) -> Account:
        with self.state.lock:
            return self.state.accounts.setdefault(
                shortcode, Account(working=0, utility=0, charges_paid=0)
            )

    def stk_callback_payload(self, txn: StkTransaction) -> dict[str, Any]:
        callback: dict[str, Any] = {
            "MerchantRequestID": txn.merchant_request_id,
            "CheckoutRequestID": txn.checkout_request_id,
            "ResultCode": _code_value(txn.result_code or ""),
            "ResultDesc": txn.result_desc,
        }
        if txn.result_code == "0" and txn.completed_at is not None:
            items: list[dict[str, Any]] = [
                {"Name": "Amount", "Value": _amount_number(txn.amount_cents)},
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

    async def _stk_resolved(self, txn: StkTransaction) -> None:
        self._finalize_stk(txn)
        scenario = txn.scenario

        async def send() -> None:
            payload = self.stk_callback_payload(txn)
            for _ in range(scenario.callback_copies):
                await self.dispatcher.post(
                    "stk", txn.callback_url, payload, headers={"Businessshortcode": txn.shortcode}
                )

        if scenario.callback_copies:
            self.dispatcher.later(scenario.callback_delay or 0.0, send)

    async def stk_query(self, _: Request, body: dict[str, Any]) -> Response:
        self._check_stk_credentials(body)
        checkout = need_text(body, "CheckoutRequestID")
        txn = self.state.stk.get(checkout)
        if txn is None:
            raise Reject(500, "500.001.1001", "The transaction does not Exist")
        if not txn.final:
            if self.state.monotonic() < txn.resolve_at:
                raise Reject(
                    500, "500.001.1001", "The transaction is being processed", request_id=checkout
                )
            self._finalize_stk(txn)
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

    # --- C2B -----------------------------------------------------------------------------------

    async def c2b_register(self, request: Request, body: dict[str, Any]) -> Response:
        shortcode = need_digits(body, "ShortCode")
        response_type = need_text(body, "ResponseType")
        if response_type not in ("Completed", "Cancelled"):
            raise bad("ResponseType")
        confirmation = need_url(body, "ConfirmationURL", c2b=True)
        validation = need_url(body, "ValidationURL", c2b=True)
        version = "v2" if "/v2/" in request.url.path else "v1"
        with self.state.lock:
            self.state.c2b_registrations[shortcode] = C2BRegistration(
                shortcode, confirmation, validation, response_type, version
            )
            self._account(shortcode)
        return JSONResponse(
            {
                "OriginatorCoversationID": self.state.new_originator_id(),
                "ResponseCode": "0",
                "ResponseDescription": "success",
            }
        )

    async def c2b_simulate(self, _: Request, body: dict[str, Any]) -> Response:
        shortcode = need_digits(body, "ShortCode")
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
            self.dispatcher.spawn(
                self._c2b_flow(
                    registration,
                    phone=phone,
                    amount_cents=amount_cents,
                    bill_ref="" if bill_ref is None else str(bill_ref),
                    command=command,
                    scenario=scenario,
                )
            )
        return JSONResponse(
            {
                "OriginatorCoversationID": self.state.new_originator_id(),
                "ResponseCode": "0",
                "ResponseDescription": ACCEPTED,
            }
        )

    def c2b_payload(
        self,
        registration: C2BRegistration,
        *,
        trans_id: str,
        phone: str,
        amount_cents: int,
        bill_ref: str,
        command: str,
        at: datetime,
        org_balance: str = "",
        third_party: str = "",
    ) -> dict[str, Any]:
        """Validation and confirmation body; MSISDN hashed (v1) or masked (v2)."""
        payload: dict[str, Any] = {
            "TransactionType": "Pay Bill" if command == "CustomerPayBillOnline" else "Buy Goods",
            "TransID": trans_id,
            "TransTime": daraja_timestamp(at),
            "TransAmount": _amount_text(amount_cents),
            "BusinessShortCode": registration.shortcode,
            "BillRefNumber": bill_ref,
            "InvoiceNumber": "",
            "OrgAccountBalance": org_balance,
            "ThirdPartyTransID": third_party,
        }
        name = self.state.customer_name(phone)
        if registration.version == "v2":
            payload["MSISDN"] = f"{phone[:4]} ***** {phone[-3:]}"
            payload.update({"FirstName": name, "MiddleName": "", "LastName": ""})
        else:
            payload["MSISDN"] = hashlib.sha256(phone.encode()).hexdigest()
            payload["FirstName"] = name
        return payload

    async def _c2b_flow(
        self,
        registration: C2BRegistration,
        *,
        phone: str,
        amount_cents: int,
        bill_ref: str,
        command: str,
        scenario: Scenario,
    ) -> None:
        """Validation, then (if accepted) the money, then the confirmation."""
        generation = self.state.generation
        delay = self.config.callback_delay_seconds
        if delay:
            await asyncio.sleep(delay)
        if not scenario.succeeds or self.state.generation != generation:
            return  # the customer's payment failed inside M-Pesa: the business hears nothing
        at = self.state.now()
        trans_id = self.state.new_receipt()

        def build(org_balance: str = "", third_party: str = "") -> dict[str, Any]:
            return self.c2b_payload(
                registration,
                trans_id=trans_id,
                phone=phone,
                amount_cents=amount_cents,
                bill_ref=bill_ref,
                command=command,
                at=at,
                org_balance=org_balance,
                third_party=third_party,
            )

        validation = await self.dispatcher.post(
            "c2b_validation", registration.validation_url, build()
        )
        answer = validation.response if isinstance(validation.response, dict) else {}
        if validation.status_code is None or validation.status_code >= 500:
            accepted = registration.response_type == "Completed"
        else:
            accepted = code_str(answer.get("ResultCode")) == "0"
        if not accepted or self.state.generation != generation:
            return
        with self.state.lock:
            if self.state.wallet(phone) < amount_cents:
                return
            self.state.wallets[phone] = self.state.wallet(phone) - amount_cents
            account = self._account(registration.shortcode)
            account.utility += amount_cents
            balance = _amount_text(account.utility)
            self.state.record_receipt(
                Receipt(
                    receipt=trans_id,
                    kind="c2b",
                    amount_cents=amount_cents,
                    shortcode=registration.shortcode,
                    phone=phone,
                    name=self.state.customer_name(phone),
                    at=at,
                    bill_ref=bill_ref,
                )
            )
        confirmation = build(balance, str(answer.get("ThirdPartyTransID") or ""))
        if scenario.callback_delay:
            await asyncio.sleep(scenario.callback_delay)
        if self.state.generation != generation:
            return
        for _ in range(scenario.callback_copies):
            await self.dispatcher.post(
                "c2b_confirmation", registration.confirmation_url, confirmation
            )

    # --- B2C -----------------------------------------------------------------------------------

    def _accepted(self, originator: str, conversation: str) -> JSONResponse:
        return JSONResponse(
            {
                "ConversationID": conversation,
                "OriginatorConversationID": originator,
                "ResponseCode": "0",
                "ResponseDescription": ACCEPTED,
            }
        )

    async def b2c(self, request: Request, body: dict[str, Any]) -> Response:
        v3 = "/v3/" in request.url.path
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
        occasion = str(body.get("Occassion") or body.get("Occasion") or "")
        scenario = self.state.scenario_for(phone)
        if scenario.http_error:
            raise Reject(scenario.http_error, "500.003.1001", "Internal Server Error")
        with self.state.lock:
            if not v3:
                originator = self.state.new_originator_id()
            if originator in self.state.b2c:
                raise Reject(500, "500.002.1001", "Duplicate OriginatorConversationID.")
            conversation = self.state.new_conversation_id()
            txn = B2CTransaction(
                originator_conversation_id=originator,
                conversation_id=conversation,
                shortcode=shortcode,
                phone=phone,
                amount_cents=amount_cents,
                command_id=command,
                result_url=result_url,
                timeout_url=timeout_url,
                occasion=occasion,
                scenario=scenario,
                created_at=self.state.now(),
                credential_ok=self.state.check_credential(initiator, credential),
            )
            self.state.b2c[originator] = txn
            self.state.b2c_by_conversation[conversation] = originator
        self.dispatcher.later(self.config.callback_delay_seconds, lambda: self._b2c_resolved(txn))
        return self._accepted(originator, conversation)

    def _finalize_b2c(self, txn: B2CTransaction) -> None:
        with self.state.lock:
            if txn.result_code is not None:
                return
            scenario = txn.scenario
            account = self.state.accounts.get(txn.shortcode)
            code, desc = "0", "The service request is processed successfully."
            if not txn.credential_ok:
                code, desc = "2001", "The initiator information is invalid."
            elif account is None:
                code = "2028"
                desc = "The request is not permitted according to product assignment."
            elif txn.amount_cents < B2C_MIN_CENTS:
                code = "2"
                desc = "Declined due to limit rule: less than the minimum transaction amount."
            elif txn.amount_cents > MAX_CUSTOMER_CENTS:
                code = "3"
                desc = "Declined due to limit rule: greater than the maximum transaction amount."
            elif scenario.applies_to_b2c and not (scenario.succeeds or scenario.b2c_queue_timeout):
                code, desc = scenario.result_code, scenario.result_desc
            elif account.utility < txn.amount_cents:
                code, desc = "1", "The balance is insufficient for the transaction."
            txn.transaction_id = self.state.new_receipt()
            txn.completed_at = self.state.now()
            if code == "0" and account is not None:
                account.utility -= txn.amount_cents
                self.state.wallets[txn.phone] = self.state.wallet(txn.phone) + txn.amount_cents
                self.state.record_receipt(
                    Receipt(
                        receipt=txn.transaction_id,
                        kind="b2c",
                        amount_cents=txn.amount_cents,
                        shortcode=txn.shortcode,
                        phone=txn.phone,
                        name=self.state.customer_name(txn.phone),
                        at=txn.completed_at,
                        originator_conversation_id=txn.originator_conversation_id,
                        conversation_id=txn.conversation_id,
                    )
                )
            txn.result_code, txn.result_desc = code, desc

    def b2c_result_payload(self, txn: B2CTransaction) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": _code_value(txn.result_code or ""),
            "ResultDesc": txn.result_desc,
            "OriginatorConversationID": txn.originator_conversation_id,
            "ConversationID": txn.conversation_id,
            "TransactionID": txn.transaction_id,
        }
        account = self.state.accounts.get(txn.shortcode)
        if txn.result_code == "0" and account is not None and txn.completed_at is not None:
            name = self.state.customer_name(txn.phone)
            completed = txn.completed_at.astimezone(EAT).strftime("%d.%m.%Y %H:%M:%S")
            result["ResultParameters"] = {
                "ResultParameter": [
                    {"Key": "TransactionAmount", "Value": _amount_number(txn.amount_cents)},
                    {"Key": "TransactionReceipt", "Value": txn.transaction_id},
                    {"Key": "ReceiverPartyPublicName", "Value": f"{txn.phone} - {name}"},
                    {"Key": "TransactionCompletedDateTime", "Value": completed},
                    {
                        "Key": "B2CUtilityAccountAvailableFunds",
                        "Value": _amount_number(account.utility),
                    },
                    {
                        "Key": "B2CWorkingAccountAvailableFunds",
                        "Value": _amount_number(account.working),
                    },
                    {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
                    {
                        "Key": "B2CChargesPaidAccountAvailableFunds",
                        "Value": _amount_number(account.charges_paid),
                    },
                ]
            }
        result["ReferenceData"] = {
            "ReferenceItem": {
                "Key": "QueueTimeoutURL",
                "Value": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit",
            }
        }
        return {"Result": result}

    def b2c_timeout_payload(self, txn: B2CTransaction) -> dict[str, Any]:
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

    async def _b2c_resolved(self, txn: B2CTransaction) -> None:
        self._finalize_b2c(txn)
        scenario = txn.scenario
        timeout = scenario.b2c_queue_timeout

        async def send() -> None:
            if timeout:
                payload, url, kind = self.b2c_timeout_payload(txn), txn.timeout_url, "b2c_timeout"
            else:
                payload, url, kind = self.b2c_result_payload(txn), txn.result_url, "b2c_result"
            for _ in range(scenario.callback_copies):
                await self.dispatcher.post(kind, url, payload)

        if scenario.callback_copies:
            self.dispatcher.later(scenario.callback_delay or 0.0, send)

    # --- the other initiator APIs ----------------------------------------------------------------

    def _org_request(self, body: dict[str, Any], command: str) -> tuple[bool, str, str]:
        """Common checks; returns (credential ok, result URL, timeout URL)."""
        initiator = need_text(body, "Initiator")
        credential = need_text(body, "SecurityCredential")
        if need_text(body, "CommandID") != command:
            raise bad("CommandID")
        result_url = need_url(body, "ResultURL")
        timeout_url = need_url(body, "QueueTimeOutURL")
        return self.state.check_credential(initiator, credential), result_url, timeout_url

    def _result(
        self,
        originator: str,
        conversation: str,
        code: str,
        desc: str,
        parameters: list[dict[str, Any]] | None,
        reference: dict[str, Any],
        transaction_id: str = "",
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": _code_value(code),
            "ResultDesc": desc,
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "TransactionID": transaction_id or self.state.new_receipt(),
        }
        if parameters is not None:
            result["ResultParameters"] = {"ResultParameter": parameters}
        result["ReferenceData"] = {"ReferenceItem": reference}
        return {"Result": result}

    def _send_result(self, kind: str, url: str, payload: dict[str, Any]) -> None:
        async def send() -> None:
            await self.dispatcher.post(kind, url, payload)

        self.dispatcher.later(self.config.callback_delay_seconds, send)

    async def transaction_status(self, _: Request, body: dict[str, Any]) -> Response:
        ok, result_url, _timeout = self._org_request(body, "TransactionStatusQuery")
        transaction_id = str(body.get("TransactionID") or "").strip()
        original = str(body.get("OriginalConversationID") or "").strip()
        if not transaction_id and not original:
            raise bad("TransactionID")
        need_digits(body, "PartyA")
        need_digits(body, "IdentifierType")
        need_remarks(body)
        occasion = str(body.get("Occasion") or "")
        originator, conversation = self.state.new_originator_id(), self.state.new_conversation_id()
        reference = {"Key": "Occasion", "Value": occasion}
        if not ok:
            payload = self._result(
                originator,
                conversation,
                "2001",
                "The initiator information is invalid.",
                None,
                reference,
            )
        else:
            payload = self._status_payload(
                originator, conversation, transaction_id, original, reference
            )
        self._send_result("transaction_status", result_url, payload)
        return self._accepted(originator, conversation)

    def _status_payload(
        self,
        originator: str,
        conversation: str,
        transaction_id: str,
        original: str,
        reference: dict[str, Any],
    ) -> dict[str, Any]:
        receipt = self.state.receipts.get(transaction_id) if transaction_id else None
        b2c = self.state.b2c.get(original) if original else None
        if b2c is None and receipt is None and transaction_id:
            b2c = next(
                (t for t in self.state.b2c.values() if t.transaction_id == transaction_id), None
            )
        if b2c is not None:
            self._finalize_b2c(b2c)
            receipt = self.state.receipts.get(b2c.transaction_id)
        if receipt is not None:
            org = f"{receipt.shortcode} - {ORG_NAME}"
            person = f"{receipt.phone} - {receipt.name}"
            outgoing = receipt.kind == "b2c"
            status = "Reversed" if receipt.reversed else receipt.status
            amount, at, number = receipt.amount_cents, receipt.at, receipt.receipt
            conv = receipt.conversation_id or conversation
            orig = receipt.originator_conversation_id or originator
        elif b2c is not None:
            org = f"{b2c.shortcode} - {ORG_NAME}"
            person = f"{b2c.phone} - {self.state.customer_name(b2c.phone)}"
            outgoing, status = True, "Declined"
            amount, at, number = b2c.amount_cents, b2c.created_at, b2c.transaction_id
            conv, orig = b2c.conversation_id, b2c.originator_conversation_id
        else:
            return self._result(
                originator,
                conversation,
                "R000002",
                "The OriginalTransactionID is invalid.",
                None,
                reference,
            )
        stamp = int(daraja_timestamp(at))
        params: list[dict[str, Any]] = [
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
            {"Key": "Amount", "Value": _amount_number(amount)},
            {"Key": "ConversationID", "Value": conv},
            {"Key": "ReceiptNo", "Value": number},
        ]
        return self._result(
            originator,
            conversation,
            "0",
            "The service request is processed successfully.",
            params,
            reference,
        )

    async def account_balance(self, _: Request, body: dict[str, Any]) -> Response:
        ok, result_url, _timeout = self._org_request(body, "AccountBalance")
        shortcode = need_digits(body, "PartyA")
        need_digits(body, "IdentifierType")
        need_remarks(body)
        originator, conversation = self.state.new_originator_id(), self.state.new_conversation_id()
        reference = {
            "Key": "QueueTimeoutURL",
            "Value": "https://internalsandbox.safaricom.co.ke/mpesa/abresults/v1/submit",
        }
        account = self.state.accounts.get(shortcode)
        if not ok:
            payload = self._result(
                originator,
                conversation,
                "2001",
                "The initiator information is invalid.",
                None,
                reference,
            )
        elif account is None:
            payload = self._result(
                originator,
                conversation,
                "2028",
                "The request is not permitted according to product assignment.",
                None,
                reference,
            )
        else:
            with self.state.lock:
                balance = account.balance_string()
            params: list[dict[str, Any]] = [
                {"Key": "AccountBalance", "Value": balance},
                {"Key": "BOCompletedTime", "Value": int(daraja_timestamp(self.state.now()))},
            ]
            payload = self._result(
                originator,
                conversation,
                "0",
                "The service request is processed successfully",
                params,
                reference,
            )
        self._send_result("account_balance", result_url, payload)
        return self._accepted(originator, conversation)

    async def reversal(self, _: Request, body: dict[str, Any]) -> Response:
        ok, result_url, _timeout = self._org_request(body, "TransactionReversal")
        transaction_id = need_text(body, "TransactionID")
        amount_cents = need_whole_amount(body)
        receiver = need_digits(body, "ReceiverParty")
        if str(body.get("RecieverIdentifierType", "11")) not in ("11", "4"):
            raise bad("RecieverIdentifierType")
        need_remarks(body)
        originator, conversation = self.state.new_originator_id(), self.state.new_conversation_id()
        reference = {
            "Key": "QueueTimeoutURL",
            "Value": "https://internalsandbox.safaricom.co.ke/mpesa/reversalresults/v1/submit",
        }
        with self.state.lock:
            receipt = self.state.receipts.get(transaction_id)
            if not ok:
                code, desc = "2001", "The initiator information is invalid."
            elif (
                receipt is None
                or receipt.kind not in ("stk", "c2b")
                or receipt.shortcode != receiver
                or receipt.amount_cents != amount_cents
            ):
                code, desc = "R000002", "The OriginalTransactionID is invalid."
            elif receipt.reversed:
                code, desc = "R000001", "The transaction has already been reversed."
            else:
                code, desc = "0", "The service request is processed successfully."
            params: list[dict[str, Any]] | None = None
            if code == "0" and receipt is not None:
                receipt.reversed = True
                account = self._account(receipt.shortcode)
                account.utility -= receipt.amount_cents
                self.state.wallets[receipt.phone] = (
                    self.state.wallet(receipt.phone) + receipt.amount_cents
                )
                params = [
                    {
                        "Key": "DebitAccountBalance",
                        "Value": f"Utility Account|KES|{_amount_text(account.utility)}"
                        f"|{_amount_text(account.utility)}|0.00|0.00",
                    },
                    {"Key": "Amount", "Value": _amount_number(receipt.amount_cents)},
                    {
                        "Key": "TransCompletedTime",
                        "Value": int(daraja_timestamp(self.state.now())),
                    },
                    {"Key": "OriginalTransactionID", "Value": receipt.receipt},
                    {"Key": "Charge", "Value": 0},
                    {"Key": "CreditPartyPublicName", "Value": f"{receipt.phone} - {receipt.name}"},
                    {"Key": "DebitPartyPublicName", "Value": f"{receipt.shortcode} - {ORG_NAME}"},
                ]
        payload = self._result(originator, conversation, code, desc, params, reference)
        self._send_result("reversal", result_url, payload)
        return self._accepted(originator, conversation)

    # --- Pull Transactions ---------------------------------------------------------------------

    async def pull_register(self, _: Request, body: dict[str, Any]) -> Response:
        shortcode = need_digits(body, "ShortCode")
        if need_text(body, "RequestType") != "Pull":
            raise bad("RequestType")
        need_msisdn(body, "NominatedNumber")
        callback = need_url(body, "CallBackURL")
        with self.state.lock:
            self.state.pull_registrations[shortcode] = callback
        return JSONResponse(
            {
                "ResponseRefID": self.state.new_request_id(),
                "ResponseStatus": "1000",
                "ShortCode": shortcode,
                "ResponseDescription": "Shortcode Registered Successfully",
            }
        )

    async def pull_query(self, _: Request, body: dict[str, Any]) -> Response:
        shortcode = need_digits(body, "ShortCode")

        def when(name: str) -> datetime:
            text = need_text(body, name)
            try:
                moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
            except ValueError:
                raise bad(name) from None
            return moment.replace(tzinfo=EAT).astimezone(UTC)

        start, end = when("StartDate"), when("EndDate")
        offset_raw = str(body.get("OffSetValue", "0") or "0").strip()
        if not offset_raw.isdigit():
            raise bad("OffSetValue")
        offset = int(offset_raw)
        start = max(start, self.state.now() - PULL_WINDOW)
        found = self.state.received_by(shortcode, start, end)[offset : offset + PULL_PAGE]
        rows = [
            {
                "transactionId": r.receipt,
                "trxDate": r.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "msisdn": int(r.phone),
                "sender": "UNKNOWN",
                "transactiontype": "c2b-pay-bill-debit",
                "billreference": r.bill_ref,
                "amount": _amount_text(r.amount_cents),
                "organizationname": r.name,
            }
            for r in found
        ]
        return JSONResponse(
            {
                "ResponseRefID": self.state.new_request_id(),
                "ResponseCode": "1000" if rows else "1001",
                "ResponseMessage": "Success" if rows else "No transactions found",
                "Response": [rows] if rows else [],
            }
        )

    # --- control endpoints ---------------------------------------------------------------------

    async def control_state(self, _: Request) -> Response:
        return JSONResponse(self.state.summary())

    async def control_callbacks(self, _: Request) -> Response:
        with self.state.lock:
            rows = [
                {
                    "kind": d.kind,
                    "url": d.url,
                    "payload": json.loads(dumps(d.payload)),
                    "at": d.at.isoformat(),
                    "status_code": d.status_code,
                    "error": d.error,
                }
                for d in self.state.deliveries
            ]
        return JSONResponse(rows)

    async def control_scenarios(self, request: Request) -> Response:
        """Set a scenario: for one phone, for all numbers, or `daraja_down` for N requests."""
        if request.method == "DELETE":
            self.state.clear_scenarios()
            return JSONResponse(self.state.summary())
        if request.method == "GET":
            return JSONResponse({"scenarios": sorted(SCENARIOS), "magic_numbers": MAGIC_NUMBERS})
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "body must be JSON"}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("scenario"), str):
            return JSONResponse({"error": "give a scenario name"}, status_code=400)
        name = body["scenario"]
        if name == "daraja_down":
            requests = body.get("requests", 1)
            status = body.get("status", 503)
            if not isinstance(requests, int) or not isinstance(status, int) or status < 500:
                return JSONResponse({"error": "requests and a 5xx status"}, status_code=400)
            self.state.start_outage(requests, status)
            return JSONResponse(self.state.summary())
        delay = body.get("delay_seconds")
        if delay is not None and (not isinstance(delay, int | float) or delay < 0):
            return JSONResponse({"error": "delay_seconds must be >= 0"}, status_code=400)
        try:
            scenario = named_scenario(name, delay_seconds=delay)
        except UnknownScenario as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        phone = body.get("phone")
        if phone is not None and not (isinstance(phone, str) and _MSISDN.fullmatch(phone)):
            return JSONResponse({"error": "phone must be 2547XXXXXXXX"}, status_code=400)
        self.state.set_scenario(scenario, phone)
        return JSONResponse(self.state.summary())

    async def control_reset(self, _: Request) -> Response:
        self.state.reset()
        return JSONResponse(self.state.summary())

    async def control_expire_tokens(self, _: Request) -> Response:
        self.state.expire_tokens()
        return JSONResponse({"expired": True})

    async def control_wallet(self, request: Request) -> Response:
        """`{"phone": "2547...", "balance": "1500.00"}` sets a customer's wallet."""
        return await self._set_money(request, "phone", self.state.set_wallet)

    async def control_account(self, request: Request) -> Response:
        """`{"shortcode": "600000", "balance": "100.00"}` sets the utility account."""
        return await self._set_money(request, "shortcode", self.state.set_utility)

    async def _set_money(
        self, request: Request, key: str, setter: Callable[[str, int], None]
    ) -> Response:
        try:
            body = json.loads(await request.body(), parse_float=Decimal)
            target = str(body[key])
            cents = to_cents(body["balance"])
        except (ValueError, KeyError, TypeError, InvalidAmount):
            return JSONResponse({"error": f"give {key} and balance"}, status_code=400)
        setter(target, cents)
        return JSONResponse(self.state.summary())

    async def control_certificate(self, _: Request) -> Response:
        return Response(self.state.certificate_pem, media_type="application/x-pem-file")

    async def health(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})


def create_emulator_app(
    config: EmulatorConfig | None = None,
    *,
    state: EmulatorState | None = None,
    callback_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """A fresh emulator app; `app.state.emulator` gives tests the `Emulator` behind it."""
    emulator_state = state or EmulatorState(config)
    dispatcher = Dispatcher(emulator_state, transport=callback_transport)
    emulator = Emulator(emulator_state, dispatcher)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await dispatcher.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        Route("/emulator/health", emulator.health, methods=["GET"]),
        Route("/emulator/state", emulator.control_state, methods=["GET"]),
        Route("/emulator/callbacks", emulator.control_callbacks, methods=["GET"]),
        Route("/emulator/scenarios", emulator.control_scenarios, methods=["GET", "POST", "DELETE"]),
        Route("/emulator/reset", emulator.control_reset, methods=["POST"]),
        Route("/emulator/tokens/expire", emulator.control_expire_tokens, methods=["POST"]),
        Route("/emulator/wallets", emulator.control_wallet, methods=["POST"]),
        Route("/emulator/accounts", emulator.control_account, methods=["POST"]),
        Route("/emulator/certificate", emulator.control_certificate, methods=["GET"]),
        Route("/{path:path}", emulator.handle, methods=methods),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return app
