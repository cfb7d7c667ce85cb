"""Sending a `processing` refund or payout to Daraja's B2C, once.

Daraja's answer decides what follows: accepted (the result arrives at the ResultURL),
refused outright (closed `failed`, the amount released), or unknown (it may have gone
out: Transaction Status is asked, the money is never sent again).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from pesadesk.accounts.urls import with_webhook_token
from pesadesk.b2c.requests import release
from pesadesk.b2c.rules import FAILED, FIRST_CHECK_AFTER, PROCESSING
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.events import refund_settled
from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.errors import DarajaError, never_sent
from pesadesk.db.models import Refund
from pesadesk.db.session import Database
from pesadesk.events.publish import publish
from pesadesk.payments.views import refund_view
from pesadesk.pipeline.rerun import rerun_flagged
from pesadesk.pipeline.run import Pipeline
from pesadesk.shared import audit


async def send(
    *, db: Database, daraja: DarajaClient, settings: Settings, clock: Clock, refund_pk: int
) -> Refund:
    """Send the B2C request for a `processing` refund, once."""
    b2c = settings.payments.b2c
    with db.read() as session:
        refund = session.get(Refund, refund_pk)
        assert refund is not None
    remarks = (refund.reason or f"{refund.kind.title()} {refund.refund_id}")[:100]
    if len(remarks) < 2:
        remarks = f"Refund {refund.refund_id}"
    try:
        accepted = await daraja.b2c_payment(
            originator_conversation_id=refund.originator_conversation_id,
            phone=refund.phone,
            amount_cents=refund.amount_cents,
            remarks=remarks,
            command_id=refund.command_id,  # type: ignore[arg-type]
            occasion=refund.refund_id,
            result_url=with_webhook_token(b2c.callback_url, settings),
            timeout_url=with_webhook_token(b2c.timeout_url, settings),
        )
    except DarajaError as exc:
        if never_sent(exc):
            await asyncio.to_thread(_mark_not_sent, db, refund_pk, exc, settings, clock)
        else:  # it may have gone out: ask, never pay again
            note = f"outcome unknown ({exc.code}); checking with Transaction Status"
            await asyncio.to_thread(_mark_unknown, db, refund_pk, note, clock)
    else:
        await asyncio.to_thread(_mark_sent, db, refund_pk, accepted.conversation_id, clock)
        if accepted.conversation_id:  # a result that came before the id was kept: apply it
            await asyncio.to_thread(
                rerun_flagged, Pipeline(db, settings, clock), source="b2c_result",
                external_id=accepted.conversation_id,
            )  # fmt: skip
    with db.read() as session:
        sent = session.get(Refund, refund_pk)
        assert sent is not None
        return sent


def _mark_sent(db: Database, refund_pk: int, conversation_id: str | None, clock: Clock) -> None:
    now = clock.now()
    with db.write() as session:
        session.execute(
            update(Refund)
            .where(Refund.id == refund_pk)
            .values(
                conversation_id=conversation_id or None,
                next_check_at=now + FIRST_CHECK_AFTER,  # no result by then: ask
                updated_at=now,
            )
        )
        refund = session.get(Refund, refund_pk)
        assert refund is not None
        audit.record(session, actor="pesadesk", action=f"{refund.kind}.sent",
                     subject=refund.refund_id, now=now, after=refund_view(refund))  # fmt: skip


def _mark_unknown(db: Database, refund_pk: int, note: str, clock: Clock) -> None:
    now = clock.now()
    with db.write() as session:
        session.execute(
            update(Refund)
            .where(Refund.id == refund_pk)
            .values(result_desc=note[:300], next_check_at=now, updated_at=now)
        )


def _mark_not_sent(
    db: Database, refund_pk: int, exc: DarajaError, settings: Settings, clock: Clock
) -> None:
    """Daraja refused the request outright: nothing left, the amount is released."""
    now = clock.now()
    with db.write() as session:
        refund = session.execute(
            select(Refund).where(Refund.id == refund_pk).with_for_update()
        ).scalar_one()
        moved = session.execute(
            update(Refund)
            .where(Refund.id == refund_pk, Refund.status == PROCESSING)
            .values(status=FAILED, result_code=exc.error_code, updated_at=now,
                    result_desc=f"Daraja refused the request: {exc.message}"[:300])
            .returning(Refund.id)
        ).first()  # fmt: skip
        if moved is not None:
            release(session, refund, now)
            session.refresh(refund)
            audit.record(session, actor="pesadesk", action=f"{refund.kind}.failed",
                         subject=refund.refund_id, now=now, after=refund_view(refund))  # fmt: skip
            event = refund_settled(refund.kind, False, refund.refund_id)
            publish(session, [event], settings=settings, now=now)
