"""What becomes of a callback that could not be applied: its kind, and whether and when
the recovery pass tries it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import OperationalError

from pesadesk.core.errors import DatabaseBusy, InvalidAmount, NeedsReview
from pesadesk.pipeline.failures import (
    MAX_TRANSIENT_ATTEMPTS,
    TRANSIENT_CAP_SECONDS,
    classify,
    refused,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_kinds() -> None:
    """Busy database: transient; bad amount: invalid; unknown checkout: review (flagged);
    token refused: refused (flagged); anything else: failed."""
    busy = DatabaseBusy("database busy")
    assert classify(busy).kind == "transient"
    assert classify(OperationalError("x", {}, Exception("lock"))).kind == "transient"
    assert classify(InvalidAmount("bad")).kind == "invalid"
    assert (classify(NeedsReview("who?")).kind, classify(NeedsReview("who?")).flagged) == (
        "review",
        True,
    )
    assert (refused("no token").kind, refused("no token").flagged) == ("refused", True)
    assert classify(RuntimeError("boom")).kind == "failed"


def test_transient_failures_are_retried_with_capped_backoff_a_bounded_number_of_times() -> None:
    """Each retry waits longer (never beyond the cap); after the last one a person decides;
    other kinds are never retried by themselves."""
    busy = classify(DatabaseBusy("database busy"))
    waits = [busy.retry_at(n, NOW) for n in range(1, MAX_TRANSIENT_ATTEMPTS)]
    assert all(w is not None and NOW < w <= NOW + timedelta(seconds=TRANSIENT_CAP_SECONDS)
               for w in waits)  # fmt: skip
    assert busy.retry_at(MAX_TRANSIENT_ATTEMPTS, NOW) is None
    assert classify(RuntimeError("boom")).retry_at(1, NOW) is None
