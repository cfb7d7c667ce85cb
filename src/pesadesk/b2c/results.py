"""What arrives at the B2C ResultURL and QueueTimeoutURL, as the pipeline applies it: a
B2C result settles its refund or payout, a Transaction Status result settles one whose
outcome was unknown (only when it names the refund's own amount), an Account Balance
result is kept, and a queue timeout sends pesadesk to ask Transaction Status."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.orm import Session

from pesadesk.b2c import balance
from pesadesk.b2c.rules import COMPLETED, PROCESSING
from pesadesk.b2c.settle import refund_for, settle
from pesadesk.c2b import verify
from pesadesk.core.errors import NeedsReview
from pesadesk.core.money import format_kes
from pesadesk.daraja.callbacks import (
    AccountBalanceResult,
    B2CResult,
    B2CTimeout,
    TransactionStatusResult,
)
from pesadesk.daraja.result_codes import b2c_message
from pesadesk.db.models import Refund
from pesadesk.pipeline.contract import Context, Outcome, Plan

log = structlog.get_logger(__name__)

B2COutcome = AccountBalanceResult | TransactionStatusResult | B2CResult


class ResultHandler:
    def external_id(self, message: B2COutcome) -> str | None:
        if isinstance(message, B2CResult):
            return message.conversation_id or None
        return message.result.conversation_id or None

    def plan(self, session: Session, message: Any) -> Plan:
        return Plan()

    def apply(self, session: Session, message: B2COutcome, plan: Plan, ctx: Context) -> Outcome:
        now = ctx.clock.now()
        if isinstance(message, AccountBalanceResult):
            found = message.account(balance.UTILITY)
            if found is not None:
                balance.observe(
                    session, available_cents=found.available_cents,
                    current_cents=found.current_cents, source="account_balance", now=now,
                )  # fmt: skip
            return Outcome(external_id=self.external_id(message))
        if isinstance(message, TransactionStatusResult):
            return _status_result(session, message, ctx)
        if message.utility_available_cents is not None:
            balance.observe(session, available_cents=message.utility_available_cents,
                            current_cents=None, source="b2c_result", now=now)  # fmt: skip
        refund = refund_for(session, message.originator_conversation_id, message.conversation_id)
        external = message.conversation_id or None
        if refund is None:
            return Outcome(external_id=external, flagged=True,
                           note="no refund or payout has this conversation id")  # fmt: skip
        if ctx.must_verify and (not external or refund.conversation_id != external):
            # Unproven origin: only Daraja knows the ConversationID it gave pesadesk. Kept
            # and run again once that id is stored (`send`); a forgery stays for a person.
            raise NeedsReview(
                f"an unproven B2C result without the ConversationID Daraja gave for "
                f"{refund.refund_id} ({external})"
            )
        event = settle(
            session, refund=refund, succeeded=message.succeeded, code=message.result_code,
            desc=b2c_message(message.result_code, message.result.result_desc),
            receipt=message.receipt, clock=ctx.clock,
        )  # fmt: skip
        return _settled_outcome(refund, event, message.succeeded, external)


class TimeoutHandler:
    """A queue timeout is not a failure: the refund stays `processing` and is asked about."""

    def external_id(self, message: B2CTimeout) -> str | None:
        return message.conversation_id or None

    def plan(self, session: Session, message: Any) -> Plan:
        return Plan()

    def apply(self, session: Session, message: B2CTimeout, plan: Plan, ctx: Context) -> Outcome:
        refund = refund_for(session, message.originator_conversation_id, message.conversation_id)
        external = message.conversation_id or None
        if refund is None:
            return Outcome(external_id=external, flagged=True,
                           note="no refund or payout has this conversation id")  # fmt: skip
        if refund.status == PROCESSING:
            now = ctx.clock.now()
            session.execute(
                update(Refund)
                .where(Refund.id == refund.id)
                .values(next_check_at=now, updated_at=now,
                        result_desc="B2C queue timeout; checking with Transaction Status")
            )  # fmt: skip
        return Outcome(external_id=external)


def _settled_outcome(refund: Refund, event: Any, succeeded: bool, external: str | None) -> Outcome:
    """A repeat is a duplicate, unless it says money left for a refund we had closed as
    failed or rejected: that needs a person at once."""
    if event is not None:
        return Outcome(external_id=external, events=(event,))
    if not succeeded or refund.status == COMPLETED:
        return Outcome(external_id=external, duplicate=True)
    note = f"Daraja says {refund.refund_id} was paid, but it is {refund.status}: check it"
    log.error("refund_paid_after_closing", refund_id=refund.refund_id, status=refund.status)
    return Outcome(external_id=external, flagged=True, note=note)


def _status_result(session: Session, status: TransactionStatusResult, ctx: Context) -> Outcome:
    occasion = str(status.result.reference_data.get("Occasion") or "")
    if occasion.startswith(verify.OCCASION_PREFIX):  # pesadesk asked about a C2B payment
        return verify.status_answered(session, status, occasion, ctx)
    refund = refund_for(session, status.originator_conversation_id, status.conversation_id,
                         occasion or None)  # fmt: skip
    external = status.result.conversation_id or None
    if refund is None:
        return Outcome(external_id=external, flagged=True,
                       note="a Transaction Status result for nothing we sent")  # fmt: skip
    if ctx.must_verify and (not external or refund.check_token != external):
        # Unproven origin, and the Occasion (a refund id) is guessable: only the answer to
        # the question pesadesk asked (its ConversationID, stored by `checks`) counts.
        raise NeedsReview(f"a Transaction Status answer pesadesk has not asked for ({external})")
    if not status.result.succeeded or not status.transaction_status:
        note = f"Transaction Status could not tell ({status.result.result_code}); asking again"
        return Outcome(external_id=external, note=note)
    succeeded = status.completed
    # Another amount means another transaction, whatever it says: settling ours on it, as
    # paid or as failed (which frees the amount to be refunded again), is never safe.
    if status.amount_cents is not None and status.amount_cents != refund.amount_cents:
        note = (
            f"Transaction Status names a {status.transaction_status} payment of"
            f" {format_kes(status.amount_cents)}"
            f" (receipt {status.receipt_no}), not {refund.refund_id}'s"
            f" {format_kes(refund.amount_cents)}: not settled, check it"
        )
        log.error("refund_status_mismatch", refund_id=refund.refund_id)
        return Outcome(external_id=external, flagged=True, note=note)
    event = settle(
        session, refund=refund, succeeded=succeeded, code=status.result.result_code,
        desc=f"settled by Transaction Status: {status.transaction_status}",
        receipt=status.receipt_no if succeeded else None, clock=ctx.clock,
    )  # fmt: skip
    return _settled_outcome(refund, event, succeeded, external)


result = ResultHandler()
timeout = TimeoutHandler()
