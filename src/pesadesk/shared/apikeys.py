"""API keys: random, shown once, stored only as a SHA-256 hash.

Keys carry 256 bits of randomness, so a fast hash is enough; a slow password hash
would only slow every request down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk.config import SecuritySettings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import ApiKeyNotFound, InvalidInput
from pesadesk.core.statuses import Role
from pesadesk.db.models import ApiKey
from pesadesk.db.session import Database
from pesadesk.shared import audit
from pesadesk.shared.pages import Page, PageRequest, newest_first

KEY_PREFIX = "pd_"


STATIC_ADMIN = "static-admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name (for audit), its role, and the person who owns it
    (approvals need a different person, not merely a different key)."""

    name: str
    role: Role
    key_id: int | None
    owner: str = ""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, *, name: str, role: str, clock: Clock, owner: str | None = None,
    actor: Principal | None = None,
) -> tuple[ApiKey, str]:  # fmt: skip
    """Store a new key and return it with its one and only plain-text copy. Its owner is
    the person named, else the creating key's owner, else the key's own name; the
    creation is audited."""
    try:
        parsed_role = Role(role)
    except ValueError:
        raise InvalidInput(f"role must be viewer, operator or admin, not {role!r}") from None
    if not name.strip():
        raise InvalidInput("name must not be empty")
    person = (owner or "").strip() or (actor.owner if actor else "") or name.strip()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiKey(
        name=name.strip(),
        owner=person[:100],
        role=parsed_role.value,
        key_hash=hash_key(key),
        prefix=key[:10],
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor=actor.name if actor else "cli", action="api_key.created",
                 subject=f"key:{row.id}", now=now, after=key_view(row))  # fmt: skip
    return row, key


def key_view(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "owner": row.owner,
        "role": row.role,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


def authenticate(session: Session, *, key: str, security: SecuritySettings) -> Principal | None:
    static = security.admin_api_key
    if (
        static is not None
        and static.get_secret_value()
        and hmac.compare_digest(key.encode(), static.get_secret_value().encode())
    ):
        return Principal(name=STATIC_ADMIN, role=Role.ADMIN, key_id=None, owner=STATIC_ADMIN)
    row = session.execute(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        return None
    return Principal(name=row.name, role=Role(row.role), key_id=row.id, owner=row.owner)


def revoke_key(
    session: Session, *, key_id: int, clock: Clock, actor: Principal | None = None
) -> None:
    now = clock.now()
    changed = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiKey.id)
    ).first()
    if not changed:
        raise ApiKeyNotFound(f"no active API key {key_id}")
    row = session.get(ApiKey, key_id)
    assert row is not None
    audit.record(session, actor=actor.name if actor else "cli", action="api_key.revoked",
                 subject=f"key:{key_id}", now=now, after=key_view(row))  # fmt: skip


def list_keys(db: Database, page: PageRequest) -> Page:
    with db.read() as session:
        return newest_first(session, select(ApiKey), page, keys=[(ApiKey.id, int)], view=key_view)


def create(
    db: Database, *, name: str, role: str, owner: str | None, actor: Principal, clock: Clock
) -> dict[str, Any]:
    """A new key, with the key itself shown this once."""
    with db.write() as session:
        row, key = create_key(session, name=name, role=role, owner=owner, actor=actor, clock=clock)
        return {**key_view(row), "key": key}


def revoke(db: Database, *, key_id: int, actor: Principal, clock: Clock) -> None:
    with db.write() as session:
        revoke_key(session, key_id=key_id, clock=clock, actor=actor)


def who_is(db: Database, *, key: str, security: SecuritySettings) -> Principal | None:
    with db.read() as session:
        return authenticate(session, key=key, security=security)
