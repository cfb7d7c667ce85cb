"""Capped exponential backoff with jitter, and per-kind retry policies, as pure code."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


def backoff(
    attempt: int,
    *,
    base_seconds: float = 2.0,
    cap_seconds: float = 600.0,
    jitter: random.Random | None = None,
) -> timedelta:
    """Delay before attempt `attempt + 1`: base * 2^(attempt-1), capped, times 0.5-1.0."""
    rng = jitter or random.Random()  # noqa: S311 - jitter, not secrets
    raw = min(cap_seconds, base_seconds * (2 ** max(0, attempt - 1)))
    return timedelta(seconds=raw * (0.5 + rng.random() / 2))


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed piece of outbox work is tried again, and when it is given up.

    Gives up after `max_attempts` attempts, or (when `give_up_after` is set) once the
    work is older than that; whichever comes first.
    """

    base_seconds: float = 2.0
    cap_seconds: float = 600.0
    max_attempts: int = 10
    give_up_after: timedelta | None = None

    def delay(self, attempt: int, jitter: random.Random | None = None) -> timedelta:
        return backoff(
            attempt, base_seconds=self.base_seconds, cap_seconds=self.cap_seconds, jitter=jitter
        )

    def gives_up(self, attempt: int, age: timedelta) -> bool:
        """True when attempt number `attempt` (from 1), made `age` after the work was
        queued, was its last."""
        if attempt >= self.max_attempts:
            return True
        return self.give_up_after is not None and age >= self.give_up_after


# Signed webhooks (CONTRACT §10): the first three retries within a minute (at most
# 5 + 10 + 20 s), then doubling up to an hour apart, for three days and a bit, so that an
# endpoint down for three days is seen failing past that mark and disabled. Attempts are
# bounded by the age, not the count: about 80 attempts at most.
WEBHOOK_RETRY = RetryPolicy(
    base_seconds=5.0,
    cap_seconds=3600.0,
    max_attempts=1000,
    give_up_after=timedelta(days=3, hours=6),
)
