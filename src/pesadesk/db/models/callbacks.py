"""What arrived (callbacks, events), what is owed to the outside (outbox), and the
counters that keep requests unique (idempotency keys, rate limits, sequences)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from pesadesk.db.models.base import Base
from pesadesk.db.types import UTCDateTime


class WebhookLog(Base):
    """A callback exactly as it arrived, stored before anything reads it."""

    __tablename__ = "webhook_logs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(30))
    # How it reached us: `callback` (Safaricom over HTTP), `pull` (Pull Transactions),
    # `statement` (a statement row imported by a person).
    origin: Mapped[str] = mapped_column(String(12), default="callback", server_default="callback")
    # The token or the allow-list passed it (or pesadesk asked Daraja itself): CONTRACT §8.
    proven: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    raw_body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(100))
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    # Why it is not processed: `invalid` (malformed), `review` (needs a person), `refused`
    # (token or address), `transient` (lock timeout, deadlock: retried), `failed` (other).
    error_kind: Mapped[str | None] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(None, "processed", "flagged", "received_at"),
        Index(None, "source", "external_id"),
    )


class Event(Base):
    """A money change, written in the transaction that made it (CONTRACT §10). `data` is
    the changed object as the API shows it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (Index(None, "type", "id"),)


class OutboxMessage(Base):
    """Work to do after a commit (WhatsApp, STK queries), written in the same transaction
    as the change that caused it. `dedupe_key` makes a replayed callback a no-op."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "status", "next_attempt_at"),)


class IdempotencyKey(Base):
    """The first result of a money-moving request, replayed for the same key and body."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_json: Mapped[str | None] = mapped_column(Text)  # the service's result
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("scope", "key"),)


class RateLimit(Base):
    """Requests counted per key and minute, shared by every process on the database."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)


class Sequence(Base):
    """Counters for human ids (`INV-20260206` -> 17); bumped with one atomic upsert."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
