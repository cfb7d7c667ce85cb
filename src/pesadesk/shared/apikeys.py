"""API keys: random, shown once, stored only as a SHA-256 hash.

Keys carry 256 bits of randomness, so a fast hash is enough; a slow password hash
would only slow every request down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk.config import SecuritySettings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import ApiKeyNotFound, InvalidInput
from pesadesk.core.statuses import Role
from pesadesk.db.models import ApiKey

KEY_PREFIX = "pd_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name (for audit) and its role."""

    name: str
    role: Role
    key_id: int | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, *, name: str, role: str, clock: Clock) -> tuple[ApiKey, str]:
    """Store a new key and return it with its one and only plain-text copy."""
    try:
        parsed_role = Role(role)
    except ValueError:
        raise InvalidInput(f"role must be viewer, operator or admin, not {role!r}") from None
    if not name.strip():
        raise InvalidInput("name must not be empty")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name.strip(),
        role=parsed_role.value,
        key_hash=hash_key(key),
        prefix=key[:10],
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row, key


def authenticate(session: Session, *, key: str, security: SecuritySettings) -> Principal | None:
    static = security.admin_api_key
    if (
        static is not None
        and static.get_secret_value()
        and hmac.compare_digest(key.encode(), static.get_secret_value().encode())
    ):
        return Principal(name="static-admin", role=Role.ADMIN, key_id=None)
    row = session.execute(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        return None
    return Principal(name=row.name, role=Role(row.role), key_id=row.id)


def revoke_key(session: Session, *, key_id: int, clock: Clock) -> None:
    changed = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .returning(ApiKey.id)
    ).first()
    if not changed:
        raise ApiKeyNotFound(f"no active API key {key_id}")
