"""Tables of the signed webhooks pesadesk sends out (CONTRACT §10): the endpoints, the
event types each takes, and the log of every delivery attempt.

The state of a delivery (pending, its next attempt, given up) is its outbox row; the
attempts here say what each try met (status code, time taken, error).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from pesadesk.db.models.base import Base
from pesadesk.db.types import UTCDateTime


class WebhookEndpoint(Base):
    """A URL of the business's that gets signed events. `secret` is the `whsec_` signing
    secret, sealed with `$PESADESK_SECRET_KEY` when that is set. An endpoint failing
    since `failing_since` for three days is disabled; a deleted one keeps its log."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookSubscription(Base):
    """An event type an endpoint takes (`*`: every type)."""

    __tablename__ = "webhook_subscriptions"

    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40), primary_key=True)

    __table_args__ = (Index(None, "event_type"),)


class WebhookAttempt(Base):
    """One HTTP try of one event at one endpoint: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)
    attempt: Mapped[int] = mapped_column(Integer)
    redelivery: Mapped[bool] = mapped_column(Boolean, default=False)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "endpoint_id", "id"), Index(None, "outbox_id"))
