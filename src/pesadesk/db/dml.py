"""Dialect-aware `INSERT ... ON CONFLICT DO NOTHING`, the idempotency primitive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(
    session: Session, table: Table, values: Mapping[str, Any], *, returning: Column[Any]
) -> Any | None:
    """Insert unless any unique constraint clashes; the new row's `returning` or None.

    The database decides, so racing inserts of one TransID or dedupe key produce one row.
    """
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = module.insert(table).values(**values).on_conflict_do_nothing().returning(returning)
    return session.execute(stmt).scalar_one_or_none()
