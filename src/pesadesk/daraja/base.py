"""The core every Daraja API call shares: configuration, one `_post`, retries, errors.

`DarajaBase` owns the httpx client (with its transport seam and OAuth flow) and the
plumbing; the per-API mixins in `pesadesk.daraja.apis` add the calls, and
`pesadesk.daraja.client.DarajaClient` puts them together. Nothing here reads pesadesk's
configuration: a plain `DarajaConfig` comes in.

Retries: lookups and registrations are retried with capped exponential backoff on 5xx
answers and network errors. STK Push, B2C and Reversal move money and are sent exactly
once: if no answer comes back the caller gets `DarajaOutcomeUnknown` and must settle it
with STK Query or Transaction Status (CONTRACT §6).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from pesadesk.core.clock import Clock, SystemClock, daraja_timestamp
from pesadesk.core.money import whole_shillings
from pesadesk.core.placeholders import is_placeholder
from pesadesk.daraja.auth import TOKEN_PATH, DarajaAuth, is_product_mismatch
from pesadesk.daraja.errors import (
    DarajaConfigError,
    DarajaError,
    DarajaOutcomeUnknown,
    DarajaProductMismatch,
    DarajaRejected,
    DarajaRequestInvalid,
    DarajaServerError,
    DarajaUnavailable,
    DuplicateOriginatorConversationID,
    StkPushRefused,
    TransactionNotFound,
)
from pesadesk.daraja.schemas import DarajaBody, ErrorEnvelope, TransactionType

__all__ = [
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "STK_PUSH_PATH",
    "STK_QUERY_PATH",
    "DarajaBase",
    "DarajaConfig",
    "check_length",
    "envelope_of",
    "required",
    "secret",
    "shillings",
]

SANDBOX_URL: Final = "https://sandbox.safaricom.co.ke"
PRODUCTION_URL: Final = "https://api.safaricom.co.ke"

# 500 answers that are a definite answer, not a hiccup: retrying them cannot help.
_FINAL_500_CODES: Final = frozenset({"500.001.1001", "500.002.1001"})
# 500.001.1001 is overloaded (reference §2): on these two paths it means something exact.
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


def check_length(name: str, value: str, limit: int) -> None:
    """Refuse an empty or too long text field before Daraja does."""
    if not value or not value.strip():
        raise DarajaRequestInvalid(f"{name} must not be empty")
    if len(value) > limit:
        raise DarajaRequestInvalid(
            f"{name} may have at most {limit} characters; {value!r} has {len(value)}"
        )


def secret(value: SecretStr | None, name: str) -> str:
    """A configured secret's value; a missing or placeholder one is `DarajaConfigError`."""
    if value is None or is_placeholder(value):
        raise DarajaConfigError(f"{name} is not configured")
    return value.get_secret_value()


def required(value: str | None, name: str) -> str:
    """A configured setting's value; a missing one is `DarajaConfigError`."""
    if not value:
        raise DarajaConfigError(f"{name} is not configured")
    return value


def shillings(amount_cents: int) -> int:
    """Whole shillings for Daraja; a non-whole amount is `LossyAmount`, never rounded."""
    whole = whole_shillings(amount_cents)
    if whole <= 0:
        raise DarajaRequestInvalid("amount must be at least KES 1")
    return whole


def envelope_of(response: httpx.Response) -> ErrorEnvelope:
    """Daraja's `{requestId, errorCode, errorMessage}`, or an empty one if it is not that."""
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


class DarajaBase:
    """The shared plumbing of `DarajaClient`: one httpx client, `_post`, error mapping."""

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
        return f"{type(self).__name__}(base_url={self.config.resolved_base_url!r})"

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
            except httpx.TransportError as exc:
                if money and _may_have_arrived(exc):
                    raise _outcome_unknown(path, exc) from None
                if last:
                    raise _unreachable(path, exc) from None
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
        """The `DarajaError` subclass a non-2xx answer stands for, with its HTTP context."""
        envelope = envelope_of(response)
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
        if is_product_mismatch(response):
            return DarajaProductMismatch(message, **kwargs)
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


def _may_have_arrived(exc: httpx.TransportError) -> bool:
    """A request that failed after connecting may have reached M-Pesa."""
    return not isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError)


def _outcome_unknown(path: str, exc: httpx.TransportError) -> DarajaOutcomeUnknown:
    if isinstance(exc, httpx.TimeoutException):
        return DarajaOutcomeUnknown(
            f"no answer from Daraja for {path}; settle it by query, do not resend"
        )
    return DarajaOutcomeUnknown(f"connection to Daraja broke during {path}; settle it by query")


def _unreachable(path: str, exc: httpx.TransportError) -> DarajaUnavailable:
    if isinstance(exc, httpx.TimeoutException):
        return DarajaUnavailable(f"Daraja did not answer {path} in time", retryable=True)
    return DarajaUnavailable(
        f"cannot reach Daraja for {path}: {type(exc).__name__}", retryable=True
    )
