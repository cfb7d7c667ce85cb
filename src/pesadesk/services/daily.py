"""The morning summary to the admins: what needs a person today."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pesadesk.clock import Clock, to_eat
from pesadesk.config import Settings
from pesadesk.db.models import Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.domain.statuses import PaymentStatus
from pesadesk.money import format_kes
from pesadesk.services.notifications import notify_admins

SEND_AFTER_HOUR_EAT = 8


def summary_text(session: Session, clock: Clock) -> str:
    now = clock.now()
    stuck = session.execute(
        select(func.count()).where(
            Payment.status == PaymentStatus.PROCESSING.value,
            Payment.created_at < now - timedelta(hours=24),
        )
    ).scalar_one()
    unallocated, unallocated_cents = session.execute(
        select(func.count(), func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.status == PaymentStatus.UNALLOCATED.value
        )
    ).one()
    failed_hooks = session.execute(
        select(func.count()).where(WebhookLog.processed.is_(False))
    ).scalar_one()
    review = session.execute(
        select(func.count()).where(Payment.needs_review.is_(True))
    ).scalar_one()
    return (
        f"pesadesk daily summary, {to_eat(now):%d %b %Y}\n"
        f"Payments stuck in processing over 24 h: {stuck}\n"
        f"Unallocated money: {unallocated} payment(s), {format_kes(int(unallocated_cents))}\n"
        f"Callbacks not processed: {failed_hooks}\n"
        f"Payments needing review: {review}"
    )


def queue_daily_summary(db: Database, *, settings: Settings, clock: Clock) -> bool:
    """Queue today's summary once, after 08:00 in Nairobi; True when queued now."""
    local = to_eat(clock.now())
    if local.hour < SEND_AFTER_HOUR_EAT or not settings.admin_numbers:
        return False
    with db.write() as session:
        text = summary_text(session, clock)
        return (
            notify_admins(
                session,
                settings=settings,
                event="daily",
                subject=f"{local:%Y-%m-%d}",
                text=text,
                now=clock.now(),
            )
            > 0
        )
