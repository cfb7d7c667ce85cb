"""Per-key rate limit for the endpoints that send money out (refunds, payouts).

A sliding window kept in memory, per process: with several `serve` processes each
allows the configured rate, which bounds a runaway script without a shared store.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from pesadesk.core.errors import RateLimited
from pesadesk.shared.apikeys import Principal

WINDOW_SECONDS = 60.0


class RateLimiter:
    def __init__(self, per_minute: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.monotonic = monotonic
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, who: Principal) -> None:
        key = f"{who.key_id}:{who.name}"
        now = self.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.per_minute:
                wait = math.ceil(hits[0] + WINDOW_SECONDS - now)
                raise RateLimited(
                    f"more than {self.per_minute} money-moving requests a minute from this key",
                    retry_after=max(1, wait),
                )
            hits.append(now)
