"""Capped exponential backoff with jitter, as a pure function."""

from __future__ import annotations

import random
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
