"""The Daraja error family: everything that can go wrong talking to Safaricom.

    PesadeskError
    ├── DarajaError                  Daraja refused or failed a request (has the HTTP context)
    │   ├── DarajaConfigError        a setting the call needs is missing (no HTTP happened)
    │   ├── DarajaRequestInvalid     we refused to send it: Daraja would reject it anyway
    │   ├── DarajaAuthError          OAuth failed, or the token was refused twice
    │   ├── DarajaRejected           a 4xx answer: fix the request, do not retry
    │   │   └── DarajaProductMismatch   401 "no apiproduct match found": the app lacks the API
    │   ├── DarajaServerError        a 5xx answer (retryable unless the code says otherwise)
    │   │   ├── DuplicateOriginatorConversationID   500.002.1001: the B2C was already sent
    │   │   ├── StkPushRefused       500.001.1001 on STK Push: no prompt was sent
    │   │   └── TransactionNotFound  500.001.1001 "does not Exist" from STK Query
    │   └── DarajaUnavailable        no answer at all (network error, timeout)
    │       └── DarajaOutcomeUnknown a money request went out and no answer came back
    └── InvalidInput (core)
        └── CallbackError            a callback body is not shaped like Daraja's

Every `DarajaError` carries `http_status`, Daraja's `error_code` and `request_id`, and
`retryable`: whether sending the same request again is safe *and* may help. Money-moving
requests are never retried automatically, whatever `retryable` says (CONTRACT §6).
Messages never contain credentials: only Daraja's own `errorMessage` text is echoed.
"""

from __future__ import annotations

from pesadesk.core.errors import InvalidInput, PesadeskError

__all__ = [
    "CallbackError",
    "DarajaAuthError",
    "DarajaConfigError",
    "DarajaError",
    "DarajaOutcomeUnknown",
    "DarajaProductMismatch",
    "DarajaRejected",
    "DarajaRequestInvalid",
    "DarajaServerError",
    "DarajaUnavailable",
    "DuplicateOriginatorConversationID",
    "StkPushRefused",
    "TransactionNotFound",
    "never_sent",
]


class DarajaError(PesadeskError):
    """Raised when Safaricom's Daraja API refused or failed a request."""

    code = "daraja_error"

    def __init__(
        self,
        message: str | None = None,
        *,
        http_status: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error_code = error_code
        self.request_id = request_id
        self.retryable = retryable

    def __str__(self) -> str:
        parts = [self.message]
        if self.error_code:
            parts.append(f"errorCode={self.error_code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.request_id:
            parts.append(f"requestId={self.request_id}")
        return " ".join(parts)


class DarajaConfigError(DarajaError):
    """Raised when a Daraja setting needed for this call is missing."""

    code = "daraja_not_configured"


class DarajaRequestInvalid(DarajaError):
    """Raised before sending when Daraja would reject the request (too long, not whole)."""

    code = "daraja_request_invalid"


class DarajaAuthError(DarajaError):
    """Raised when Daraja would not give or accept an access token."""

    code = "daraja_auth_failed"


class DarajaRejected(DarajaError):
    """Raised when Daraja answered 4xx: the request itself is wrong."""

    code = "daraja_rejected"


class DarajaProductMismatch(DarajaRejected):
    """Raised when Daraja answers that the app has no product for this API ("Invalid API
    call as no apiproduct match found"): not an expired token, so not retried; for C2B
    register, try v1 (reference §4)."""

    code = "daraja_product_mismatch"


class DarajaServerError(DarajaError):
    """Raised when Daraja answered 5xx."""

    code = "daraja_server_error"


class DuplicateOriginatorConversationID(DarajaServerError):
    """Raised when Daraja already has a B2C request with this OriginatorConversationID."""

    code = "daraja_duplicate_request"


class StkPushRefused(DarajaServerError):
    """Raised when Daraja refuses an STK Push with 500.001.1001 ("Wrong credentials",
    "Merchant does not exist", a subscriber already in a session): a 500 that is a
    definite refusal, so no prompt reached the phone and the payment can be closed."""

    code = "daraja_stk_refused"


class TransactionNotFound(DarajaServerError):
    """Raised when STK Query does not know the CheckoutRequestID."""

    code = "daraja_transaction_not_found"


class DarajaUnavailable(DarajaError):
    """Raised when Daraja could not be reached or did not answer in time."""

    code = "daraja_unavailable"


class DarajaOutcomeUnknown(DarajaUnavailable):
    """Raised when a money request may have reached Daraja but no answer came back.

    Settle it with STK Query or Transaction Status; never send it again.
    """

    code = "daraja_outcome_unknown"


class CallbackError(InvalidInput):
    """Raised when a Daraja callback body does not have the shape Daraja sends.

    An `InvalidInput`, so one `except InvalidInput` catches every refusal of a callback
    body; a bad amount is `InvalidAmount`/`LossyAmount` (also `InvalidInput`) instead.
    """

    code = "invalid_callback"


def never_sent(exc: DarajaError) -> bool:
    """True only when a failed money request surely did not reach Safaricom: our own
    checks, configuration, OAuth, a 4xx refusal, or no connection at all. A 5xx, a
    timeout or an unreadable answer may hide money that moved: ask, never resend."""
    if isinstance(exc, DarajaOutcomeUnknown):
        return False
    definite = (
        DarajaRejected | DarajaRequestInvalid | DarajaConfigError | DarajaAuthError | StkPushRefused
    )
    if isinstance(exc, definite):
        return True
    return isinstance(exc, DarajaUnavailable) and exc.http_status is None
