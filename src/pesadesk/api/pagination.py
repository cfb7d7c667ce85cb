"""Cursor pagination: `?limit=&cursor=` and `{"data": [...], "next_cursor": ...}`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select
from starlette.concurrency import run_in_threadpool

from pesadesk.core.errors import InvalidInput
from pesadesk.db.session import Database

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class BadCursor(InvalidInput):
    """Raised when a cursor was not made by pesadesk."""

    code = "invalid_cursor"
    status = 400


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1:
        raise InvalidInput("limit must be at least 1")
    return min(limit, MAX_LIMIT)


def encode_cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: tuple[type, ...] = (int,)) -> list[Any]:
    """The position a cursor holds; it must have exactly the shape `kinds` says."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor("cursor is not valid") from None
    if (
        not isinstance(value, list)
        or len(value) != len(kinds)
        or not all(
            isinstance(v, kind) and not isinstance(v, bool)
            for v, kind in zip(value, kinds, strict=True)
        )
    ):
        raise BadCursor("cursor is not valid")
    return value


def page(rows: list[Any], limit: int, position: Any) -> tuple[list[Any], str | None]:
    """Cut one extra row off (fetched to know whether another page exists)."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(position(rows[-1]))
    return rows, None


async def newest_first(
    db: Database,
    query: Select[Any],
    id_column: Any,
    view: Callable[[Any], dict[str, Any]],
    *,
    limit: int | None,
    cursor: str | None,
) -> dict[str, Any]:
    """One page of `query`'s rows, newest (highest id) first, as `{data, next_cursor}`."""
    size = clamp_limit(limit)
    query = query.order_by(id_column.desc()).limit(size + 1)
    if cursor:
        query = query.where(id_column < decode_cursor(cursor)[0])

    def work() -> dict[str, Any]:
        with db.read() as session:
            rows, next_cursor = page(list(session.execute(query).scalars()), size, lambda r: [r.id])
            return {"data": [view(r) for r in rows], "next_cursor": next_cursor}

    return await run_in_threadpool(work)
