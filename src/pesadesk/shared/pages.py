"""Keyset pagination, the one way every list pages: newest first, `?limit=&cursor=`,
`{"data": [...], "next_cursor": ...}` (CONTRACT §3).

A cursor is the sort key of the last row shown (e.g. its id, or its time and id),
base64-encoded JSON; the next page starts strictly after it, so rows inserted meanwhile
never shift a page and no row is shown twice.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import Session

from pesadesk.core.clock import require_aware
from pesadesk.core.errors import BadCursor, InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    @classmethod
    def of(cls, limit: int | None, cursor: str | None) -> PageRequest:
        if limit is None:
            return cls(DEFAULT_LIMIT, cursor or None)
        if limit < 1:
            raise InvalidInput("limit must be at least 1")
        return cls(min(limit, MAX_LIMIT), cursor or None)


@dataclass(frozen=True)
class Page:
    data: list[dict[str, Any]]
    next_cursor: str | None

    def body(self) -> dict[str, Any]:
        return {"data": self.data, "next_cursor": self.next_cursor}


def _encode(position: list[Any]) -> str:
    plain = [p.isoformat() if isinstance(p, datetime) else p for p in position]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode_one(value: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(value, str):
            raise BadCursor("cursor is not valid")
        try:
            return require_aware(datetime.fromisoformat(value))
        except ValueError:
            raise BadCursor("cursor is not valid") from None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadCursor("cursor is not valid")
    return value


def _decode(cursor: str, kinds: Sequence[type]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor("cursor is not valid") from None
    if not isinstance(value, list) or len(value) != len(kinds):
        raise BadCursor("cursor is not valid")
    return [_decode_one(v, k) for v, k in zip(value, kinds, strict=True)]


def _after(columns: Sequence[Any], position: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `position` in descending order of `columns`."""
    clauses = []
    for n, column in enumerate(columns):
        equal = [columns[i] == position[i] for i in range(n)]
        clauses.append(and_(*equal, column < position[n]))
    return or_(*clauses)


def newest_first(
    session: Session,
    query: Select[Any],
    request: PageRequest,
    *,
    keys: Sequence[tuple[Any, type]],
    view: Callable[[Any], dict[str, Any]],
) -> Page:
    """One page of `query`, ordered by `keys` (column, Python type) descending; `view`
    turns a result row (an entity, or a tuple led by one) into its JSON shape."""
    columns = [column for column, _ in keys]
    if request.cursor:
        query = query.where(_after(columns, _decode(request.cursor, [k for _, k in keys])))
    query = query.order_by(*(c.desc() for c in columns)).limit(request.limit + 1)
    rows = list(session.execute(query).all())
    scalar = len(query.column_descriptions) == 1
    next_cursor = None
    if len(rows) > request.limit:
        rows = rows[: request.limit]
        last = rows[-1]
        source = last[0] if scalar or not hasattr(last, columns[0].key) else last
        next_cursor = _encode([getattr(source, c.key) for c in columns])
    return Page([view(row[0] if scalar else row) for row in rows], next_cursor)
