"""OAuth for Daraja as an `httpx.Auth` flow: one cached token, shared, refreshed early.

The portal warns that a new token may invalidate the previous one, so concurrent callers
must share one fetch: the token is fetched under an `asyncio.Lock` and re-checked after
the lock is taken. A 401 (or one of Daraja's "Invalid Access Token" codes) drops the token
and the request is sent once more with a fresh one; the failed request never reached
M-Pesa, so resending it is safe even for money requests. A 401 that says the app has no
product for the API ("no apiproduct match found") is passed through untouched: a new
token would be refused the same way.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Final

import httpx
from pydantic import ValidationError

from pesadesk.daraja.errors import DarajaAuthError
from pesadesk.daraja.schemas import AccessToken, ErrorEnvelope

TOKEN_PATH: Final = "/oauth/v1/generate"  # noqa: S105 - a URL path, not a secret
# Codes Daraja uses for an invalid or expired access token; they differ per API.
INVALID_TOKEN_CODES: Final = frozenset({"400.003.01", "404.001.03", "401.002.01"})
MAX_EARLY_REFRESH_SECONDS: Final = 300.0
PRODUCT_MISMATCH_TEXT: Final = "no apiproduct match found"


def refresh_margin(expires_in: float) -> float:
    """How long before expiry to refresh: 5 minutes, or a fifth of short lifetimes."""
    return min(MAX_EARLY_REFRESH_SECONDS, expires_in / 5)


def is_product_mismatch(response: httpx.Response) -> bool:
    """Apigee's "Invalid API call as no apiproduct match found": the app lacks this API's
    product (C2B register v2 for many apps), whatever token it sends (reference §1)."""
    if response.status_code < 400:
        return False
    return PRODUCT_MISMATCH_TEXT in response.content.decode("utf-8", "replace").lower()


def is_token_rejection(response: httpx.Response) -> bool:
    """Daraja refused the bearer token (HTTP 401, or an invalid-token errorCode).

    A product mismatch also comes as a 401 that speaks of an "Invalid Access Token", but
    a fresh token cannot help it: it is not a token rejection, so it is not retried.
    """
    if response.status_code < 400 or is_product_mismatch(response):
        return False
    if response.status_code == 401:
        return True
    try:
        data = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get("errorCode", "")) in INVALID_TOKEN_CODES


class DarajaAuth(httpx.Auth):
    """Adds `Authorization: Bearer <token>`, fetching the token with Basic auth when needed."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        token_url: str = TOKEN_PATH,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        basic = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode("ascii")
        self._basic = f"Basic {basic}"
        self._token_url = token_url
        self._monotonic = monotonic
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    def __repr__(self) -> str:  # never show the credentials
        return f"DarajaAuth(token_url={self._token_url!r})"

    @property
    def has_valid_token(self) -> bool:
        return self._token is not None and self._monotonic() < self._refresh_at

    def invalidate(self) -> None:
        """Forget the token; the next request fetches a new one."""
        self._token = None
        self._refresh_at = 0.0

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("DarajaAuth is async only; use httpx.AsyncClient")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self.has_valid_token:
            async with self._lock:
                if not self.has_valid_token:
                    token_response = yield self._token_request(request)
                    await token_response.aread()
                    self._store(token_response)
        used = self._token
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        await response.aread()
        if not is_token_rejection(response):
            return
        async with self._lock:
            if self._token == used:  # nobody refreshed it meanwhile
                self.invalidate()
                token_response = yield self._token_request(request)
                await token_response.aread()
                self._store(token_response)
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        url = request.url.join(self._token_url).copy_merge_params(
            {"grant_type": "client_credentials"}
        )
        return httpx.Request(
            "GET", url, headers={"Authorization": self._basic, "Accept": "application/json"}
        )

    def _store(self, response: httpx.Response) -> None:
        self.fetches += 1
        if response.status_code != 200:
            envelope = _envelope(response)
            raise DarajaAuthError(
                f"Daraja refused the consumer key/secret: "
                f"{envelope.error_message or response.reason_phrase}",
                http_status=response.status_code,
                error_code=envelope.error_code,
                request_id=envelope.request_id,
                retryable=response.status_code >= 500,
            )
        try:
            token = AccessToken.model_validate_json(response.content)
        except ValidationError:
            raise DarajaAuthError(
                "Daraja's OAuth answer has no usable access_token",
                http_status=response.status_code,
            ) from None
        self._token = token.access_token
        self._refresh_at = (
            self._monotonic() + token.expires_in - refresh_margin(float(token.expires_in))
        )


def _envelope(response: httpx.Response) -> ErrorEnvelope:
    try:
        return ErrorEnvelope.model_validate_json(response.content)
    except ValidationError:
        return ErrorEnvelope()
