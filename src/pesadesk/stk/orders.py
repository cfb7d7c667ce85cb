"""Orders (the Hive flow): created pending, confirmed by a completed STK payment."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.errors import InvalidInput, NotFound
from pesadesk.core.money import to_json_number, whole_shillings
from pesadesk.core.phone import normalize_phone
from pesadesk.db.models import Order
from pesadesk.stk.rules import OrderStatus, check_move


class OrderNotFound(NotFound):
    """Raised when no order has that id."""

    code = "order_not_found"


@dataclass(frozen=True)
class NewOrder:
    customer_phone: str
    amount_cents: int
    delivery_location: str
    items: list[dict[str, Any]] | None = None


def create_order(session: Session, *, new: NewOrder, clock: Clock) -> Order:
    """Orders are paid by STK Push, which takes whole shillings: others are refused here."""
    if new.amount_cents <= 0:
        raise InvalidInput("amount must be greater than zero")
    whole_shillings(new.amount_cents)
    if not new.delivery_location.strip():
        raise InvalidInput("delivery_location must not be empty")
    now = clock.now()
    order = Order(
        customer_phone=normalize_phone(new.customer_phone),
        amount_cents=new.amount_cents,
        delivery_location=new.delivery_location.strip(),
        items_json=json.dumps(new.items) if new.items is not None else None,
        status=OrderStatus.PENDING.value,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    return order


def find_order(session: Session, order_id: int, *, lock: bool = False) -> Order:
    query = select(Order).where(Order.id == order_id)
    order = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    return order


def change_status(session: Session, *, order_id: int, status: str, clock: Clock) -> Order:
    if status not in {s.value for s in OrderStatus}:
        raise InvalidInput(f"status must be one of {', '.join(OrderStatus)}")
    order = find_order(session, order_id, lock=True)
    if check_move(order.status, status):
        session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == order.status)
            .values(status=status, updated_at=clock.now())
        )
        session.refresh(order)
    return order


def confirm_by_payment(session: Session, *, order_id: int, clock: Clock) -> bool:
    """pending -> confirmed when its payment completes; False when it was not pending."""
    moved = session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == OrderStatus.PENDING.value)
        .values(status=OrderStatus.CONFIRMED.value, updated_at=clock.now())
        .returning(Order.id)
    ).first()
    return moved is not None


def order_view(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "status": order.status,
        "customer_phone": order.customer_phone,
        "amount": to_json_number(order.amount_cents),
        "delivery_location": order.delivery_location,
        "items": json.loads(order.items_json) if order.items_json else [],
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }
