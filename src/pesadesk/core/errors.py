"""The error tree. Each class's docstring is its default message.

    PesadeskError
    ├── NotFound
    │   ├── CustomerNotFound, InvoiceNotFound, SaleNotFound, PaymentNotFound,
    │   └── WebhookLogNotFound, ApiKeyNotFound
    ├── Conflict
    │   └── AlreadyAllocated, DuplicateCustomer, DuplicatePhone, InvalidTransition
    ├── InvalidInput
    │   └── InvalidPhone, InvalidAmount (LossyAmount), BadCursor
    ├── NeedsReview
    ├── Unauthenticated
    ├── Forbidden
    ├── PayloadTooLarge
    ├── RateLimited
    └── StorageUnavailable
        └── DatabaseBusy

Each slice adds its own (`b2c.rules`, `stk.pay`, ...); `pesadesk.daraja.errors` and
`pesadesk.config.ConfigError` (a settings file or value the desk cannot run with) join
the tree too. The errors know nothing of HTTP: `api/problems.py` holds the one
table from error to status.
"""

from __future__ import annotations


class PesadeskError(Exception):
    """Something went wrong in pesadesk."""

    code = "error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip().splitlines()[0]
        super().__init__(self.message)


class NotFound(PesadeskError):
    """Raised when the thing asked for does not exist."""

    code = "not_found"


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


class AlreadyAllocated(Conflict):
    """Raised when a payment has already been placed on an invoice or account."""

    code = "already_allocated"


class DuplicateCustomer(Conflict):
    """Raised when a customer with that id already exists."""

    code = "duplicate_customer"


class DuplicatePhone(Conflict):
    """Raised when another customer already has that phone number."""

    code = "duplicate_phone"


class InvalidTransition(Conflict):
    """Raised when a status change is not allowed from the current status."""

    code = "invalid_transition"


class InvalidInput(PesadeskError):
    """Raised when the request is well-formed but its values are not acceptable."""

    code = "invalid_input"


class BadCursor(InvalidInput):
    """Raised when a list cursor was not made by pesadesk."""

    code = "invalid_cursor"


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


class Unauthenticated(PesadeskError):
    """Raised when no valid API key was given."""

    code = "unauthenticated"


class Forbidden(PesadeskError):
    """Raised when the caller may not do this."""

    code = "forbidden"


class PayloadTooLarge(PesadeskError):
    """Raised when a request body is larger than pesadesk accepts."""

    code = "payload_too_large"


class RateLimited(PesadeskError):
    """Raised when a key makes money-moving requests faster than allowed."""

    code = "rate_limited"

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageUnavailable(PesadeskError):
    """Raised when the database cannot be reached; the caller should retry later."""

    code = "storage_unavailable"


class DatabaseBusy(StorageUnavailable):
    """Raised on a lock timeout, deadlock or serialization failure: nothing is wrong with
    the request, and the same work shortly after will likely succeed."""

    code = "database_busy"
