"""The money-out rate limit is counted in the database, so every process on it shares it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pesadesk.api.problems import problem_of
from pesadesk.core.errors import RateLimited
from pesadesk.db.session import Database
from pesadesk.shared.ratelimit import hit
from pesadesk.testing import FrozenClock


def test_two_processes_share_one_limit(db_url: str, clock: FrozenClock) -> None:
    """Three a minute: two hits through one database handle and one through another (two
    `serve` processes) use it up; the fourth is 429 with Retry-After; another key and the
    next minute are not affected."""
    first, second = Database(db_url), Database(db_url)
    try:
        now = clock.now().replace(second=0) + timedelta(seconds=20)
        for db in (first, second, first):
            hit(db, key="alice", per_minute=3, now=now, what="refunds")
        with pytest.raises(RateLimited) as refused:
            hit(second, key="alice", per_minute=3, now=now, what="refunds")
        answer = problem_of(refused.value)
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "40"
        hit(second, key="bob", per_minute=3, now=now, what="refunds")
        hit(first, key="alice", per_minute=3, now=now + timedelta(minutes=1), what="refunds")
    finally:
        first.dispose()
        second.dispose()
