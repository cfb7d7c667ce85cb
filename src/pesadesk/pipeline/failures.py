"""Why a message was not applied, as a person reads it, and what happens next.

refused    the edge refused it (token, address, size): flagged, moves nothing
invalid    not a message of its kind: kept with the reason, for a person
review     pesadesk will not apply it alone (an unknown CheckoutRequestID): flagged,
           re-run when what it waits for arrives
transient  a lock timeout, deadlock or busy database: retried by the recovery pass
           with capped backoff, a bounded number of times
failed     anything else: kept with the reason for `reprocess`
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError, OperationalError

from pesadesk.core.errors import DatabaseBusy, InvalidInput, NeedsReview
from pesadesk.core.retry import backoff
from pesadesk.daraja.errors import CallbackError

REFUSED = "refused"
INVALID = "invalid"
REVIEW = "review"
TRANSIENT = "transient"
FAILED = "failed"
MAX_TRANSIENT_ATTEMPTS = 6
TRANSIENT_BASE_SECONDS = 5.0
TRANSIENT_CAP_SECONDS = 300.0


@dataclass(frozen=True)
class Failure:
    error: str
    kind: str

    @property
    def flagged(self) -> bool:
        return self.kind in (REFUSED, REVIEW)

    def retry_at(self, attempts: int, now: datetime) -> datetime | None:
        """When the recovery pass tries a transient failure again; None: a person decides."""
        if self.kind != TRANSIENT or attempts >= MAX_TRANSIENT_ATTEMPTS:
            return None
        delay = backoff(
            attempts, base_seconds=TRANSIENT_BASE_SECONDS, cap_seconds=TRANSIENT_CAP_SECONDS
        )
        return now + delay


def describe(exc: BaseException) -> str:
    """The reason a person reads in the webhook log. For a database error, only the
    driver's primary message and SQLSTATE: SQLAlchemy's text carries the statement's
    parameters and PostgreSQL's DETAIL the failing row, both customer data."""
    if isinstance(exc, DatabaseBusy) and isinstance(exc.__cause__, DBAPIError):
        exc = exc.__cause__
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        orig = exc.orig
        primary = getattr(getattr(orig, "diag", None), "message_primary", None)
        if primary:
            state = getattr(orig, "sqlstate", None)
            return f"{type(orig).__name__}: {primary} (SQLSTATE {state})"[:2000]
        exc = orig
    return f"{type(exc).__name__}: {exc}"[:2000]


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, NeedsReview):
        kind = REVIEW
    elif isinstance(exc, DatabaseBusy | OperationalError):
        kind = TRANSIENT
    elif isinstance(exc, InvalidInput | CallbackError):
        kind = INVALID
    else:
        kind = FAILED
    return Failure(describe(exc), kind)


def refused(reason: str) -> Failure:
    return Failure(reason, REFUSED)
