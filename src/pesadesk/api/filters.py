"""`from`/`to` query values: a whole East Africa Time day, or an ISO-8601 instant."""

from __future__ import annotations

from datetime import date, datetime

from pesadesk.core.clock import EAT, eat_day_bounds, require_aware
from pesadesk.core.errors import InvalidInput


def parse_bound(value: str | None, *, end: bool) -> datetime | None:
    """`YYYY-MM-DD` covers that whole Nairobi day (`to` inclusive); a datetime without an
    offset is read as Nairobi time."""
    if not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            start, stop = eat_day_bounds(date.fromisoformat(text))
            return stop if end else start
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{text!r} is neither YYYY-MM-DD nor an ISO-8601 datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EAT)
    return require_aware(moment)
