"""Time: UTC inside, East Africa Time at the Daraja and human edges.

Services take a `Clock` instead of calling `datetime.now()`, so tests can freeze time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Protocol

EAT = timezone(timedelta(hours=3), "EAT")
DARAJA_FORMAT = "%Y%m%d%H%M%S"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def require_aware(moment: datetime) -> datetime:
    """Naive datetimes are ambiguous by three hours here; refuse them."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: give a timezone")
    return moment.astimezone(UTC)


def to_eat(moment: datetime) -> datetime:
    return require_aware(moment).astimezone(EAT)


def eat_date(moment: datetime) -> date:
    """The calendar day in Nairobi, used by `INV-YYYYMMDD-` style ids."""
    return to_eat(moment).date()


def daraja_timestamp(moment: datetime) -> str:
    """`YYYYMMDDHHmmss` in Nairobi time, as STK Push passwords and queries need."""
    return to_eat(moment).strftime(DARAJA_FORMAT)


def parse_daraja_timestamp(value: object) -> datetime:
    """`20240115103112` (string or number) in EAT to aware UTC."""
    text = str(value).strip()
    parsed = datetime.strptime(text, DARAJA_FORMAT)  # noqa: DTZ007 - EAT attached below
    return parsed.replace(tzinfo=EAT).astimezone(UTC)


def format_seed_time(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS` in EAT: the seed's payment `created_at` shape."""
    return to_eat(moment).strftime("%Y-%m-%d %H:%M:%S")


def eat_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of one Nairobi calendar day."""
    start = datetime.combine(day, time.min, tzinfo=EAT)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
