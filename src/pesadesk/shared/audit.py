"""The audit trail: who did what to money, and when, in a hash chain.

Each entry's hash covers its own fields and the previous entry's hash; `prev_hash` is
unique, so two writers racing cannot both extend the same entry (the chain cannot
fork), and an edited or deleted row breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pesadesk.db.models import AuditEntry
from pesadesk.db.session import Database
from pesadesk.shared.pages import Page, PageRequest, newest_first

GENESIS = "0" * 64
_LOCK = 0x6175_6469  # "audi"


def _digest(prev: str, at: datetime, actor: str, action: str, subject: str,
            before: str | None, after: str | None) -> str:  # fmt: skip
    material = json.dumps(
        [prev, at.isoformat(), actor, action, subject, before, after], separators=(",", ":")
    )
    return hashlib.sha256(material.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction (so it commits with the change)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK})
    last = session.execute(
        select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev = last or GENESIS
    before_json = json.dumps(before, sort_keys=True, default=str) if before is not None else None
    after_json = json.dumps(after, sort_keys=True, default=str) if after is not None else None
    at = now.replace(microsecond=0)
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        before_json=before_json,
        after_json=after_json,
        prev_hash=prev,
        hash=_digest(prev, at, actor, action, subject, before_json, after_json),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session) -> ChainReport:
    prev = GENESIS
    count = 0
    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    ).scalars()
    with closing(rows):  # a server-side cursor on PostgreSQL: close it when we stop early
        for entry in rows:
            count += 1
            if entry.prev_hash != prev:
                return ChainReport(count, entry.id, "does not follow the entry before it")
            expected = _digest(prev, entry.at, entry.actor, entry.action, entry.subject,
                               entry.before_json, entry.after_json)  # fmt: skip
            if entry.hash != expected:
                return ChainReport(count, entry.id, "its content does not match its hash")
            prev = entry.hash
    return ChainReport(count, None, None)


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "before": json.loads(entry.before_json) if entry.before_json else None,
        "after": json.loads(entry.after_json) if entry.after_json else None,
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
    }


def list_entries(db: Database, page: PageRequest) -> Page:
    with db.read() as session:
        return newest_first(
            session, select(AuditEntry), page, keys=[(AuditEntry.id, int)], view=entry_view
        )
