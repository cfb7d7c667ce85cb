"""The C2B messages the pipeline applies: a confirmation becomes one payment, placed;
a validation is answered Accepted or, when the desk is set to, with a C2B000xx code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from pesadesk.accounts.registry import owning
from pesadesk.c2b.bulk import Arrived, record_confirmation, record_many
from pesadesk.c2b.service import Recorded
from pesadesk.c2b.verify import confirm_pending
from pesadesk.core.clock import Clock
from pesadesk.core.errors import PesadeskError
from pesadesk.core.events import Event, PaymentCompleted, invoice_events
from pesadesk.daraja.callbacks import C2BPayment, parse_c2b_payment
from pesadesk.pipeline.contract import Context, Outcome, Plan
from pesadesk.receivables import matching
from pesadesk.receivables.matching import Payer, Target, match_many

ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}
INVALID_ACCOUNT = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
INVALID_AMOUNT = {"ResultCode": "C2B00013", "ResultDesc": "Rejected"}
OTHER_ERROR = {"ResultCode": "C2B00016", "ResultDesc": "Rejected"}


class ConfirmationHandler:
    """Money that arrived on the Paybill or Till, from a callback, Pull or a statement.
    A batch of them is matched, recorded and placed together (`plan_many`, `apply_many`)."""

    def external_id(self, message: C2BPayment) -> str | None:
        return message.trans_id

    def plan(self, session: Session, message: C2BPayment) -> Plan:
        return self.plan_many(session, [message])[0]

    def plan_many(self, session: Session, messages: Sequence[C2BPayment]) -> list[Plan]:
        payers = [Payer(m.bill_ref, m.msisdn_hash) for m in messages]
        return [_plan_for(target) for target in match_many(session, payers)]

    def apply(self, session: Session, message: C2BPayment, plan: Plan, ctx: Context) -> Outcome:
        return self.apply_many(session, [(message, plan, ctx)])[0]

    def apply_many(
        self, session: Session, items: Sequence[tuple[C2BPayment, Plan, Context]]
    ) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        plain: list[int] = []
        arrived: list[Arrived] = []
        for n, (message, plan, ctx) in enumerate(items):
            account = owning(ctx.settings, message.shortcode)
            if account is None:  # not this business's money: kept for a person, not credited
                stray = (
                    f"shortcode {message.shortcode} belongs to no collection account: not credited"
                )
                outcomes[n] = Outcome(external_id=message.trans_id, flagged=True, note=stray)
            elif ctx.must_verify:
                outcomes[n] = self._hold(session, message, ctx, account.name)
            else:
                plain.append(n)
                arrived.append(Arrived(message, plan.found, account.name))
        if arrived:
            clock = items[plain[0]][2].clock
            for n, recorded in zip(plain, record_many(session, arrived, clock), strict=True):
                outcomes[n] = self._recorded(session, items[n][0], recorded, clock)
        return [outcomes[n] for n in range(len(items))]

    @staticmethod
    def _recorded(
        session: Session, message: C2BPayment, recorded: Recorded, clock: Clock
    ) -> Outcome:
        if recorded.duplicate and recorded.pending:  # Daraja's word on a waiting payment
            note, confirmed = confirm_pending(
                session, payment_id=recorded.payment_id, trusted=message,
                amount_cents=message.amount_cents, clock=clock, source="a proven callback",
            )  # fmt: skip
            return Outcome(external_id=message.trans_id, note=note, events=tuple(confirmed))
        events: list[Event] = []
        if not recorded.duplicate:
            events.append(PaymentCompleted(recorded.payment_id))
            if recorded.placement is not None:
                events.extend(invoice_events(recorded.placement.invoices))
        return Outcome(
            external_id=message.trans_id,
            duplicate=recorded.duplicate,
            flagged=recorded.note is not None,
            note=recorded.note,
            events=tuple(events),
        )

    @staticmethod
    def _hold(session: Session, message: C2BPayment, ctx: Context, account: str) -> Outcome:
        """Unproven origin: recorded `pending_verification`, crediting nothing yet."""
        recorded = record_confirmation(
            session, txn=message, clock=ctx.clock, pending_reason="origin not proven",
            account=account,
        )  # fmt: skip
        note = None if recorded.duplicate else "origin not proven: waiting for Daraja to confirm"
        return Outcome(external_id=message.trans_id, duplicate=recorded.duplicate, note=note)


def _plan_for(target: Target | None) -> Plan:
    """Lock order: a customer's money by customer, a walk-in invoice's by it, then none."""
    if target is None:
        return Plan((2, 0), None)
    if target.customer_pk is not None:
        return Plan((0, target.customer_pk), target)
    return Plan((1, target.sale_pk or target.invoice_pk or 0), target)


class ValidationHandler:
    """Safaricom asks before it takes the money; by default everything is accepted."""

    def external_id(self, message: Any) -> str | None:
        found = message.get("TransID") if isinstance(message, dict) else None
        return str(found)[:100] if found else None

    def plan(self, session: Session, message: Any) -> Plan:
        return Plan()

    def apply(self, session: Session, message: Any, plan: Plan, ctx: Context) -> Outcome:
        return Outcome(
            external_id=self.external_id(message),
            reply=validation_answer(session, message, ctx),
        )


def validation_answer(session: Session, payload: Any, ctx: Context) -> dict[str, str]:
    """Accept, or (when configured to) reject unknown accounts and impossible amounts."""
    if not ctx.settings.payments.c2b.reject_unknown_accounts:
        return ACCEPT
    try:
        notice = parse_c2b_payment(payload, require_amount=False)
    except PesadeskError:
        return OTHER_ERROR
    if notice.amount_cents is None:
        return INVALID_AMOUNT
    if matching.match_reference(session, notice.bill_ref) is None:
        return INVALID_ACCOUNT
    return ACCEPT


confirmation = ConfirmationHandler()
validation = ValidationHandler()
