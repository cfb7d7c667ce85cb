"""The Daraja client: typed, async, on httpx, with a transport seam for tests.

One `DarajaClient` per set of credentials, given as a plain `DarajaConfig`: the client
never reads pesadesk's configuration (`pesadesk.accounts.daraja` builds the configs).

Retries: lookups and registrations are retried with capped exponential backoff on 5xx
answers and network errors. STK Push, B2C and Reversal move money and are sent exactly
once: if no answer comes back the caller gets `DarajaOutcomeUnknown` and must settle it
with STK Query or Transaction Status (CONTRACT §6).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from pesadesk.core.clock import Clock, SystemClock, daraja_timestamp, to_eat
from pesadesk.core.money import whole_shillings
from pesadesk.core.phone import normalize_phone
from pesadesk.core.placeholders import is_placeholder
from pesadesk.daraja.auth import TOKEN_PATH, DarajaAuth
from pesadesk.daraja.errors import (
    DarajaConfigError,
    DarajaError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaRequestInvalid,
    DarajaServerError,
    DarajaUnavailable,
    DuplicateOriginatorConversationID,
    StkPushRefused,
    TransactionNotFound,
)
from pesadesk.daraja.result_codes import stk_status
from pesadesk.daraja.schemas import (
    AccountBalanceRequest,
    AsyncAccepted,
    B2CCommand,
    B2CRequest,
    C2BRegisterRequest,
    C2BResponse,
    C2BSimulateRequest,
    DarajaBody,
    ErrorEnvelope,
    PullQueryRequest,
    PullQueryResponse,
    PullRegisterRequest,
    PullRegisterResponse,
    ReversalRequest,
    StkPushRequest,
    StkPushResponse,
    StkQueryRequest,
    StkQueryResponse,
    StkQueryResult,
    TransactionStatusRequest,
    TransactionType,
)

__all__ = [
    "FORBIDDEN_URL_WORDS",
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "DarajaClient",
    "DarajaConfig",
    "check_c2b_url",
    "stk_password",
]

SANDBOX_URL: Final = "https://sandbox.safaricom.co.ke"
PRODUCTION_URL: Final = "https://api.safaricom.co.ke"

# Words Safaricom refuses in C2B URLs (reference §4), matched in any case.
FORBIDDEN_URL_WORDS: Final = ("m-pesa", "mpesa", "safaricom", "exe", "exec", "cmd", "sql", "query")

ACCOUNT_REFERENCE_MAX: Final = 12
TRANSACTION_DESC_MAX: Final = 13
PULL_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"

# 500 answers that are a definite answer, not a hiccup: retrying them cannot help.
_FINAL_500_CODES: Final = frozenset({"500.001.1001", "500.002.1001"})
STK_PUSH_PATH: Final = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH: Final = "/mpesa/stkpushquery/v1/query"

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class DarajaConfig:
    """Credentials and defaults for one Daraja app; secrets stay `SecretStr`."""

    consumer_key: SecretStr
    consumer_secret: SecretStr
    sandbox: bool = True
    base_url: str | None = None
    # STK Push / Query
    shortcode: str | None = None
    passkey: SecretStr | None = None
    transaction_type: TransactionType = "CustomerPayBillOnline"
    till_number: str | None = None
    callback_url: str | None = None
    # B2C and the other initiator APIs
    initiator_name: str | None = None
    security_credential: SecretStr | None = field(default=None, repr=False)
    result_url: str | None = None
    timeout_url: str | None = None
    # transport behaviour
    timeout_seconds: float = 30.0
    max_retries: int = 3
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0

    @property
    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        return SANDBOX_URL if self.sandbox else PRODUCTION_URL


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """`base64(shortcode + passkey + timestamp)`, plain concatenation (reference §3)."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")


def check_c2b_url(url: str) -> None:
    """Refuse a C2B URL Safaricom would refuse: a forbidden word, spaces, not http(s)."""
    lowered = url.lower()
    if not re.fullmatch(r"https?://\S+", url):
        raise DarajaRequestInvalid(f"C2B URL must be an http(s) URL without spaces: {url!r}")
    for word in FORBIDDEN_URL_WORDS:
        if word in lowered:
            raise DarajaRequestInvalid(
                f"Safaricom refuses C2B URLs containing {word!r}; choose another path: {url!r}"
            )


def _check_length(name: str, value: str, limit: int) -> None:
    if not value or not value.strip():
        raise DarajaRequestInvalid(f"{name} must not be empty")
    if len(value) > limit:
        raise DarajaRequestInvalid(
            f"{name} may have at most {limit} characters; {value!r} has {len(value)}"
        )


def _secret(value: SecretStr | None, name: str) -> str:
    if value is None or is_placeholder(value):
        raise DarajaConfigError(f"{name} is not configured")
    return value.get_secret_value()


def _required(value: str | None, name: str) -> str:
    if not value:
        raise DarajaConfigError(f"{name} is not configured")
    return value


def _shillings(amount_cents: int) -> int:
    """Whole shillings for Daraja; a non-whole amount is `LossyAmount`, never rounded."""
    shillings = whole_shillings(amount_cents)
    if shillings <= 0:
        raise DarajaRequestInvalid("amount must be at least KES 1")
    return shillings


class DarajaClient:
    """Async Daraja API client. Use as `async with DarajaClient(config) as daraja:`."""

    def __init__(
        self,
        config: DarajaConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._sleep = sleep
        base = config.resolved_base_url
        self.auth = DarajaAuth(
            config.consumer_key.get_secret_value(),
            config.consumer_secret.get_secret_value(),
            token_url=f"{base}{TOKEN_PATH}",
            monotonic=monotonic,
        )
        self._http = httpx.AsyncClient(
            base_url=base,
            auth=self.auth,
            transport=transport,
            timeout=httpx.Timeout(config.timeout_seconds),
            headers={"Accept": "application/json"},
            event_hooks=event_hooks,
        )

    def __repr__(self) -> str:
        return f"DarajaClient(base_url={self.config.resolved_base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- plumbing ------------------------------------------------------------------------

    async def _post(
        self, path: str, body: DarajaBody, *, money: bool, allow_500: bool = False
    ) -> httpx.Response:
        """POST `body`; retries only when `money` is False. Returns 2xx (or allowed 500)."""
        attempts = 1 if money else 1 + max(0, self.config.max_retries)
        payload = body.to_body()
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._http.post(path, json=payload)
            except DarajaError:
                raise
            except httpx.TimeoutException as exc:
                if money and not isinstance(exc, httpx.ConnectTimeout):
                    raise DarajaOutcomeUnknown(
                        f"no answer from Daraja for {path}; settle it by query, do not resend"
                    ) from None
                if last:
                    raise DarajaUnavailable(
                        f"Daraja did not answer {path} in time", retryable=True
                    ) from None
            except httpx.TransportError as exc:
                if money and not isinstance(exc, httpx.ConnectError):
                    raise DarajaOutcomeUnknown(
                        f"connection to Daraja broke during {path}; settle it by query"
                    ) from None
                if last:
                    raise DarajaUnavailable(
                        f"cannot reach Daraja for {path}: {type(exc).__name__}",
                        retryable=True,
                    ) from None
            else:
                if response.status_code < 400:
                    return response
                error = self._error(path, response)
                if allow_500 and response.status_code == 500 and not error.retryable:
                    return response
                if not error.retryable or last or money:
                    raise error
            await self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """Capped exponential backoff with jitter, so retries do not stampede."""
        cap = min(self.config.backoff_max_seconds, self.config.backoff_base_seconds * 2.0**attempt)
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
        return cap * jitter

    def _error(self, path: str, response: httpx.Response) -> DarajaError:
        envelope = _envelope(response)
        status = response.status_code
        code = envelope.error_code
        text = envelope.error_message or response.reason_phrase or "error"
        kwargs: dict[str, Any] = {
            "http_status": status,
            "error_code": code,
            "request_id": envelope.request_id,
        }
        message = f"Daraja refused {path}: {text}"
        if code == "500.002.1001":
            return DuplicateOriginatorConversationID(message, **kwargs)
        if code == "500.001.1001" and path == STK_PUSH_PATH:  # overloaded: here a refusal
            return StkPushRefused(message, **kwargs)
        if code == "500.001.1001" and path == STK_QUERY_PATH and "not exist" in text.lower():
            return TransactionNotFound(message, **kwargs)
        if status >= 500:
            retryable = code not in _FINAL_500_CODES and "already registered" not in text.lower()
            return DarajaServerError(message, retryable=retryable, **kwargs)
        if status == 429:
            return DarajaServerError(message, retryable=True, **kwargs)
        return DarajaRejected(message, **kwargs)

    def _parse(self, model: type[ModelT], response: httpx.Response, path: str) -> ModelT:
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise DarajaError(
                f"Daraja's answer to {path} is not what it documents",
                http_status=response.status_code,
            ) from None

    def _timestamp(self) -> str:
        return daraja_timestamp(self.clock.now())

    def _stk_credentials(self) -> tuple[str, str, str]:
        shortcode = _required(self.config.shortcode, "payments.mpesa.shortcode")
        passkey = _secret(self.config.passkey, "payments.mpesa.passkey")
        timestamp = self._timestamp()
        return shortcode, stk_password(shortcode, passkey, timestamp), timestamp

    def _initiator(self) -> tuple[str, str]:
        name = _required(self.config.initiator_name, "payments.b2c.initiator_name")
        credential = _secret(self.config.security_credential, "payments.b2c.security_credential")
        return name, credential

    def _result_urls(self, result_url: str | None, timeout_url: str | None) -> tuple[str, str]:
        return (
            _required(result_url or self.config.result_url, "result URL"),
            _required(timeout_url or self.config.timeout_url, "queue timeout URL"),
        )

    # --- STK Push ------------------------------------------------------------------------

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
        _check_length("AccountReference", account_reference, ACCOUNT_REFERENCE_MAX)
        _check_length("TransactionDesc", description, TRANSACTION_DESC_MAX)
        amount = _shillings(amount_cents)
        msisdn = normalize_phone(phone)
        callback = _required(callback_url or self.config.callback_url, "STK callback URL")
        shortcode, password, timestamp = self._stk_credentials()
        if self.config.transaction_type == "CustomerBuyGoodsOnline":
            party_b = _required(self.config.till_number, "payments.mpesa.till_number")
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
        path = STK_PUSH_PATH
        response = await self._post(path, request, money=True)
        return self._parse(StkPushResponse, response, path)

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
            envelope = _envelope(response)
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

    # --- C2B -----------------------------------------------------------------------------

    async def c2b_register_urls(
        self,
        *,
        confirmation_url: str,
        validation_url: str,
        shortcode: str | None = None,
        response_type: Literal["Completed", "Cancelled"] = "Completed",
        version: Literal["v1", "v2"] = "v1",
    ) -> C2BResponse:
        """Register where C2B validations and confirmations go (v1: hashed MSISDN)."""
        check_c2b_url(confirmation_url)
        check_c2b_url(validation_url)
        request = C2BRegisterRequest(
            short_code=_required(shortcode or self.config.shortcode, "C2B shortcode"),
            response_type=response_type,
            confirmation_url=confirmation_url,
            validation_url=validation_url,
        )
        path = f"/mpesa/c2b/{version}/registerurl"
        response = await self._post(path, request, money=False)
        return self._parse(C2BResponse, response, path)

    async def c2b_simulate(
        self,
        *,
        amount_cents: int,
        msisdn: str,
        bill_ref_number: str | None,
        shortcode: str | None = None,
        command_id: TransactionType = "CustomerPayBillOnline",
        version: Literal["v1", "v2"] = "v1",
    ) -> C2BResponse:
        """Sandbox only: make a pretend customer pay the paybill or till."""
        request = C2BSimulateRequest(
            short_code=_required(shortcode or self.config.shortcode, "C2B shortcode"),
            command_id=command_id,
            amount=_shillings(amount_cents),
            msisdn=normalize_phone(msisdn),
            bill_ref_number=bill_ref_number,
        )
        path = f"/mpesa/c2b/{version}/simulate"
        # Simulate moves (pretend) money: sent once, like any payment.
        response = await self._post(path, request, money=True)
        return self._parse(C2BResponse, response, path)

    # --- B2C and the initiator APIs --------------------------------------------------------

    async def b2c_payment(
        self,
        *,
        originator_conversation_id: str,
        phone: str,
        amount_cents: int,
        remarks: str,
        command_id: B2CCommand = "BusinessPayment",
        occasion: str | None = None,
        result_url: str | None = None,
        timeout_url: str | None = None,
    ) -> AsyncAccepted:
        """Pay a customer (refunds). Our OriginatorConversationID makes a resend a duplicate."""
        if not originator_conversation_id:
            raise DarajaRequestInvalid("OriginatorConversationID must not be empty")
        if not 2 <= len(remarks) <= 100:
            raise DarajaRequestInvalid("Remarks must have 2 to 100 characters")
        if occasion is not None and not 1 <= len(occasion) <= 100:
            raise DarajaRequestInvalid("Occassion must have 1 to 100 characters")
        name, credential = self._initiator()
        results, timeouts = self._result_urls(result_url, timeout_url)
        request = B2CRequest(
            originator_conversation_id=originator_conversation_id,
            initiator_name=name,
            security_credential=credential,
            command_id=command_id,
            amount=_shillings(amount_cents),
            party_a=_required(self.config.shortcode, "payments.b2c.shortcode"),
            party_b=normalize_phone(phone),
            remarks=remarks,
            queue_timeout_url=timeouts,
            result_url=results,
            occasion=occasion,
        )
        path = "/mpesa/b2c/v3/paymentrequest"
        response = await self._post(path, request, money=True)
        return self._parse(AsyncAccepted, response, path)

    async def transaction_status(
        self,
        *,
        transaction_id: str | None = None,
        originator_conversation_id: str | None = None,
        party_a: str | None = None,
        identifier_type: str = "4",
        remarks: str = "Status check",
        occasion: str | None = None,
        result_url: str | None = None,
        timeout_url: str | None = None,
    ) -> AsyncAccepted:
        """Ask for a transaction's fate by receipt or by our OriginatorConversationID."""
        if not transaction_id and not originator_conversation_id:
            raise DarajaRequestInvalid("give a TransactionID or an OriginatorConversationID")
        name, credential = self._initiator()
        results, timeouts = self._result_urls(result_url, timeout_url)
        request = TransactionStatusRequest(
            initiator=name,
            security_credential=credential,
            transaction_id=transaction_id,
            original_conversation_id=originator_conversation_id,
            party_a=_required(party_a or self.config.shortcode, "PartyA"),
            identifier_type=identifier_type,
            result_url=results,
            queue_timeout_url=timeouts,
            remarks=remarks,
            occasion=occasion,
        )
        path = "/mpesa/transactionstatus/v1/query"
        response = await self._post(path, request, money=False)
        return self._parse(AsyncAccepted, response, path)

    async def account_balance(
        self,
        *,
        remarks: str = "Balance check",
        party_a: str | None = None,
        result_url: str | None = None,
        timeout_url: str | None = None,
    ) -> AsyncAccepted:
        """Ask for the shortcode's balances; they arrive at the ResultURL."""
        name, credential = self._initiator()
        results, timeouts = self._result_urls(result_url, timeout_url)
        request = AccountBalanceRequest(
            initiator=name,
            security_credential=credential,
            party_a=_required(party_a or self.config.shortcode, "PartyA"),
            remarks=remarks,
            queue_timeout_url=timeouts,
            result_url=results,
        )
        path = "/mpesa/accountbalance/v1/query"
        response = await self._post(path, request, money=False)
        return self._parse(AsyncAccepted, response, path)

    async def reversal(
        self,
        *,
        transaction_id: str,
        amount_cents: int,
        remarks: str,
        receiver_party: str | None = None,
        occasion: str | None = None,
        result_url: str | None = None,
        timeout_url: str | None = None,
    ) -> AsyncAccepted:
        """Reverse a C2B/STK receipt. Sent once: it moves money."""
        if not 2 <= len(remarks) <= 100:
            raise DarajaRequestInvalid("Remarks must have 2 to 100 characters")
        name, credential = self._initiator()
        results, timeouts = self._result_urls(result_url, timeout_url)
        request = ReversalRequest(
            initiator=name,
            security_credential=credential,
            transaction_id=transaction_id,
            amount=_shillings(amount_cents),
            receiver_party=_required(receiver_party or self.config.shortcode, "ReceiverParty"),
            result_url=results,
            queue_timeout_url=timeouts,
            remarks=remarks,
            occasion=occasion,
        )
        path = "/mpesa/reversal/v1/request"
        response = await self._post(path, request, money=True)
        return self._parse(AsyncAccepted, response, path)

    # --- Pull Transactions ---------------------------------------------------------------

    async def pull_register(
        self, *, nominated_number: str, callback_url: str, shortcode: str | None = None
    ) -> PullRegisterResponse:
        """Register the shortcode for Pull Transactions (once per shortcode)."""
        request = PullRegisterRequest(
            short_code=_required(shortcode or self.config.shortcode, "shortcode"),
            nominated_number=normalize_phone(nominated_number),
            callback_url=callback_url,
        )
        path = "/pulltransactions/v1/register"
        response = await self._post(path, request, money=False)
        return self._parse(PullRegisterResponse, response, path)

    async def pull_query(
        self,
        *,
        start: datetime,
        end: datetime,
        offset: int = 0,
        shortcode: str | None = None,
    ) -> PullQueryResponse:
        """What the shortcode received between `start` and `end` (last 48 h only)."""
        request = PullQueryRequest(
            short_code=_required(shortcode or self.config.shortcode, "shortcode"),
            start_date=to_eat(start).strftime(PULL_TIME_FORMAT),
            end_date=to_eat(end).strftime(PULL_TIME_FORMAT),
            offset_value=str(offset),
        )
        path = "/pulltransactions/v1/query"
        response = await self._post(path, request, money=False)
        return self._parse(PullQueryResponse, response, path)


def _envelope(response: httpx.Response) -> ErrorEnvelope:
    try:
        data = json.loads(response.content)
    except ValueError:
        return ErrorEnvelope()
    if not isinstance(data, dict):
        return ErrorEnvelope()
    try:
        return ErrorEnvelope.model_validate(data)
    except ValidationError:
        return ErrorEnvelope()
