"""The morning summary to the admins: what needs a person today."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.clock import Clock, to_eat
from pesadesk.core.money import format_kes
from pesadesk.core.statuses import PaymentStatus
from pesadesk.db.models import Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.jobs.context import JobContext
from pesadesk.notify.admins import notify_admins


@dataclass(frozen=True)
class DailyFigures:
    """What a person has to look at today; all zero means there is nothing to send."""

    date: date
    stuck: int
    unallocated: int
    unallocated_cents: int
    failed_callbacks: int
    needs_review: int

    @property
    def needs_attention(self) -> bool:
        return any((self.stuck, self.unallocated, self.failed_callbacks, self.needs_review))

    def text(self) -> str:
        return (
            f"pesadesk daily summary, {self.date:%d %b %Y}\n"
            f"Payments stuck in processing over 24 h: {self.stuck}\n"
            f"Unallocated money: {self.unallocated} payment(s), "
            f"{format_kes(self.unallocated_cents)}\n"
            f"Callbacks not processed: {self.failed_callbacks}\n"
            f"Payments needing review: {self.needs_review}"
        )


# The summary goes out in the first hours after `daily_summary_hour`, or not that day.
SEND_WINDOW_HOURS = 2

# Only what has waited this long is reported: the dashboard shows the fresh, the summary
# is for what nobody picked up.
WAITED = timedelta(hours=1)


def daily_figures(session: Session, clock: Clock) -> DailyFigures:
    now = clock.now()
    waited_since = now - WAITED
    stuck = session.execute(
        select(func.count()).where(
            Payment.status == PaymentStatus.PROCESSING.value,
            Payment.created_at < now - timedelta(hours=24),
        )
    ).scalar_one()
    unallocated, unallocated_cents = session.execute(
        select(func.count(), func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.status == PaymentStatus.UNALLOCATED.value,
            Payment.created_at < waited_since,
        )
    ).one()
    failed_callbacks = session.execute(
        select(func.count()).where(
            WebhookLog.processed.is_(False), WebhookLog.received_at < waited_since
        )
    ).scalar_one()
    review = session.execute(
        select(func.count()).where(
            Payment.needs_review.is_(True), Payment.updated_at < waited_since
        )
    ).scalar_one()
    return DailyFigures(
        date=to_eat(now).date(),
        stuck=int(stuck),
        unallocated=int(unallocated),
        unallocated_cents=int(unallocated_cents),
        failed_callbacks=int(failed_callbacks),
        needs_review=int(review),
    )


def queue_daily_summary(db: Database, *, settings: Settings, clock: Clock) -> bool:
    """Queue today's summary once, within two hours after `whatsapp.daily_summary_hour`
    in Nairobi, and only when something has waited over an hour for a person: an
    all-clear is a paid WhatsApp message nobody acts on. True when queued now."""
    hour = settings.whatsapp.daily_summary_hour
    local = to_eat(clock.now())
    if hour is None or not settings.admin_numbers:
        return False
    if not hour <= local.hour < hour + SEND_WINDOW_HOURS:  # a morning summary, not a 23:00 one
        return False
    with db.write() as session:
        figures = daily_figures(session, clock)
        if not figures.needs_attention:
            return False
        return (
            notify_admins(
                session,
                settings=settings,
                event="daily",
                subject=f"{local:%Y-%m-%d}",
                text=figures.text(),
                now=clock.now(),
            )
            > 0
        )


class DailySummary:
    """The morning summary; it decides itself whether today's is due."""

    name = "daily_summary"
    every = None

    async def run(self, ctx: JobContext) -> bool:
        return await asyncio.to_thread(
            queue_daily_summary, ctx.db, settings=ctx.settings, clock=ctx.clock
        )


job = DailySummary()
