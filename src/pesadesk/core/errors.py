"""The error tree. Each class's docstring is its default message.

    PesadeskError
    ├── NotFound                 (404)
    │   ├── CustomerNotFound, InvoiceNotFound, SaleNotFound, PaymentNotFound,
    │   └── WebhookLogNotFound, ApiKeyNotFound
    ├── Conflict                 (409)
    │   ├── AlreadyAllocated, DuplicateCustomer, InvalidTransition
    ├── InvalidInput             (422)
    │   ├── InvalidPhone, LossyAmount, InvalidAmount
    ├── Unauthenticated          (401)
    ├── Forbidden                (403)
    ├── PayloadTooLarge          (413)
    ├── RateLimited              (429)
    └── StorageUnavailable       (503)

`pesadesk.daraja.errors.DarajaError` joins the tree under `PesadeskError` too.
Only `api/problems.py` turns these into HTTP answers.
"""

from __future__ import annotations


class PesadeskError(Exception):
    """Something went wrong in pesadesk."""

    code = "error"
    status = 500
    headers: dict[str, str] | None = None

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip().splitlines()[0]
        super().__init__(self.message)


class NotFound(PesadeskError):
    """Raised when the thing asked for does not exist."""

    code = "not_found"
    status = 404


class CustomerNotFound(NotFound):
    """Raised when no customer has that id."""

    code = "customer_not_found"


class InvoiceNotFound(NotFound):
    """Raised when no invoice has that id."""

    code = "invoice_not_found"


class SaleNotFound(NotFound):
    """Raised when no POS sale has that id."""

    code = "sale_not_found"


class PaymentNotFound(NotFound):
    """Raised when no payment has that id."""

    code = "payment_not_found"


class WebhookLogNotFound(NotFound):
    """Raised when no logged callback has that id."""

    code = "webhook_log_not_found"


class ApiKeyNotFound(NotFound):
    """Raised when no API key has that id."""

    code = "api_key_not_found"


class Conflict(PesadeskError):
    """Raised when the request clashes with the current state."""

    code = "conflict"
    status = 409


class AlreadyAllocated(Conflict):
    """Raised when a payment has already been placed on an invoice or account."""

    code = "already_allocated"


class DuplicateCustomer(Conflict):
    """Raised when a customer with that id already exists."""

    code = "duplicate_customer"


class InvalidTransition(Conflict):
    """Raised when a status change is not allowed from the current status."""

    code = "invalid_transition"


class InvalidInput(PesadeskError):
    """Raised when the request is well-formed but its values are not acceptable."""

    code = "invalid_input"
    status = 422


class InvalidPhone(InvalidInput):
    """Raised when a phone number is not a Kenyan mobile number."""

    code = "invalid_phone"


class InvalidAmount(InvalidInput):
    """Raised when an amount is not a positive number of shillings."""

    code = "invalid_amount"


class LossyAmount(InvalidAmount):
    """Raised when an amount cannot be held exactly (more than 2 decimals, or not whole)."""

    code = "lossy_amount"


class NeedsReview(PesadeskError):
    """Raised when a callback cannot be applied without a person (kept, flagged)."""

    code = "needs_review"
    status = 409


class Unauthenticated(PesadeskError):
    """Raised when no valid API key was given."""

    code = "unauthenticated"
    status = 401


class Forbidden(PesadeskError):
    """Raised when the caller may not do this."""

    code = "forbidden"
    status = 403


class PayloadTooLarge(PesadeskError):
    """Raised when a request body is larger than pesadesk accepts."""

    code = "payload_too_large"
    status = 413


class RateLimited(PesadeskError):
    """Raised when a key makes money-moving requests faster than allowed."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class StorageUnavailable(PesadeskError):
    """Raised when the database cannot be reached; the caller should retry later."""

    code = "storage_unavailable"
    status = 503
