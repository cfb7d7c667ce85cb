"""Numbers for the dashboard and `GET /api/stats`, computed from the rows every time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import Session

from pesadesk.core.money import to_json_number
from pesadesk.core.statuses import PaymentStatus as P
from pesadesk.db.models import Order, Payment, Refund, WebhookLog
from pesadesk.db.session import Database
from pesadesk.payments.views import BOOKED_AT
from pesadesk.stk.rules import PAID_STATUSES, OrderStatus

ARRIVED = (P.COMPLETED.value, P.REFUNDED.value, P.PARTIALLY_REFUNDED.value)
FAILED = (P.FAILED.value, P.CANCELLED.value, P.TIMEOUT.value)


def _between(column: Any, start: datetime | None, end: datetime | None) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = true()
    if start is not None:
        condition = condition & (column >= start)
    if end is not None:
        condition = condition & (column < end)
    return condition


def _sum_if(condition: ColumnElement[bool], value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _of(column: Any, account: str | None) -> ColumnElement[bool]:
    """Only one collection account's rows, when one is named (`?account=`)."""
    return true() if account is None else column == account


def _orders(session: Session, start: datetime | None, end: datetime | None) -> Any:
    paid_orders = [s.value for s in PAID_STATUSES]
    return session.execute(
        select(
            func.count(),
            _sum_if(Order.status == OrderStatus.PENDING.value, 1),
            _sum_if(Order.status == OrderStatus.DELIVERED.value, 1),
            _sum_if(Order.status.in_(paid_orders), Order.amount_cents),
        ).where(_between(Order.created_at, start, end))
    ).one()


def _payments(session: Session, start: Any, end: Any, account: str | None) -> Any:
    return session.execute(
        select(
            func.count(),
            _sum_if(Payment.status.in_(ARRIVED), 1),
            _sum_if(Payment.status.in_(FAILED), 1),
            _sum_if(Payment.status.in_([*ARRIVED, P.UNALLOCATED.value]), Payment.amount_cents),
            _sum_if(Payment.status == P.UNALLOCATED.value, 1),
            _sum_if(Payment.status == P.UNALLOCATED.value, Payment.amount_cents),
            _sum_if(Payment.status == P.PROCESSING.value, 1),
        ).where(_between(BOOKED_AT, start, end), _of(Payment.account, account))
    ).one()


def _callbacks(session: Session, start: datetime | None, end: datetime | None) -> Any:
    return session.execute(
        select(
            func.count(),
            _sum_if(WebhookLog.processed.is_(True), 1),
            _sum_if(WebhookLog.is_duplicate.is_(True), 1),
            _sum_if(WebhookLog.flagged.is_(True), 1),
        ).where(_between(WebhookLog.received_at, start, end))
    ).one()


def _refunded(session: Session, start: Any, end: Any, account: str | None) -> int:
    return int(
        session.execute(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
                Refund.kind == "refund",
                Refund.status == "completed",
                _between(Refund.updated_at, start, end),
                _of(Refund.account, account),
            )
        ).scalar_one()
    )


def compute(
    session: Session, *, start: datetime | None = None, end: datetime | None = None,
    account: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The numbers; with `account`, the payment and refund figures of that collection
    account (the order and callback figures stay the desk's)."""
    orders = _orders(session, start, end)
    payments = _payments(session, start, end, account)
    hooks = _callbacks(session, start, end)
    refunded_cents = _refunded(session, start, end, account)
    received = int(payments[3])
    return {
        "total_orders": int(orders[0]),
        "pending_orders": int(orders[1]),
        "delivered_orders": int(orders[2]),
        "total_revenue": to_json_number(int(orders[3])),
        "total_payments": int(payments[0]),
        "completed_payments": int(payments[1]),
        "failed_payments": int(payments[2]),
        "payment_revenue": to_json_number(received - refunded_cents),
        "refunded_amount": to_json_number(refunded_cents),
        "unallocated_payments": int(payments[4]),
        "unallocated_amount": to_json_number(int(payments[5])),
        "processing_payments": int(payments[6]),
        "callbacks_received": int(hooks[0]),
        "duplicate_callbacks": int(hooks[2]),
        "flagged_callbacks": int(hooks[3]),
        "webhook_success_rate": round(int(hooks[1]) / int(hooks[0]), 4) if hooks[0] else None,
    }


def _eat_day(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Africa/Nairobi", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, "+3 hours")


def _refunded_by_day(
    session: Session, start: datetime | None, end: datetime | None
) -> dict[str, int]:
    day = _eat_day(session, Refund.updated_at)
    rows = session.execute(
        select(day, func.sum(Refund.amount_cents))
        .where(
            Refund.kind == "refund",
            Refund.status == "completed",
            _between(Refund.updated_at, start, end),
        )
        .group_by(day)
    ).all()
    return {str(d): int(amount) for d, amount in rows}


def daily(
    session: Session, *, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """Payments per East Africa Time day, for charts: received by source, refunded,
    net of refunds, and the share of finished payments that succeeded."""
    day = _eat_day(session, BOOKED_AT)
    received = Payment.status.in_([*ARRIVED, P.UNALLOCATED.value])
    rows = session.execute(
        select(
            day.label("day"),
            func.count(),
            _sum_if(Payment.status.in_(ARRIVED), 1),
            _sum_if(received, Payment.amount_cents),
            _sum_if(Payment.status.in_(FAILED), 1),
            _sum_if(received & (Payment.source == "stk"), Payment.amount_cents),
            _sum_if(received & (Payment.source == "c2b"), Payment.amount_cents),
        )
        .where(_between(BOOKED_AT, start, end))
        .group_by(day)
        .order_by(day)
    ).all()
    refunded = _refunded_by_day(session, start, end)
    out = []
    for d, n, ok, amount, failed, stk, c2b in rows:
        back = refunded.get(str(d), 0)
        settled = int(ok) + int(failed)
        out.append(
            {
                "date": str(d),
                "payments": int(n),
                "completed_payments": int(ok),
                "amount_received": to_json_number(int(amount)),
                "failed_payments": int(failed),
                "stk": to_json_number(int(stk)),
                "c2b": to_json_number(int(c2b)),
                "refunded": to_json_number(back),
                "net": to_json_number(int(amount) - back),
                "success_rate": round(int(ok) / settled, 4) if settled else None,
            }
        )
    return out


def totals(
    db: Database, *, start: datetime | None, end: datetime | None, account: str | None = None
) -> dict[str, Any]:
    with db.read() as session:
        return compute(session, start=start, end=end, account=account)


def days(db: Database, *, start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
    with db.read() as session:
        return daily(session, start=start, end=end)
