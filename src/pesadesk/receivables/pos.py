"""POS sales: a basket rung up at the counter, paid by Paybill with the POS id as the
account number. The first payment turns the sale into an invoice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.errors import InvalidAmount, InvalidInput, SaleNotFound
from pesadesk.core.money import MAX_CENTS
from pesadesk.core.statuses import SaleStatus
from pesadesk.db.models import Customer, PosSale, PosSaleItem
from pesadesk.receivables.customers import find_customer
from pesadesk.shared import ids


@dataclass(frozen=True)
class SaleLine:
    product_id: str
    product_name: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class NewSale:
    items: tuple[SaleLine, ...]
    customer_id: str | None = None


def create_sale(session: Session, *, new: NewSale, clock: Clock) -> PosSale:
    if not new.items:
        raise InvalidInput("a sale needs at least one item")
    for line in new.items:
        if line.quantity <= 0:
            raise InvalidInput(f"quantity of {line.product_id!r} must be at least 1")
        if line.unit_price_cents < 0:
            raise InvalidInput(f"unit_price of {line.product_id!r} must not be negative")
    total = sum(line.quantity * line.unit_price_cents for line in new.items)
    if total <= 0:
        raise InvalidInput("a sale's total must be greater than zero")
    if total > MAX_CENTS:
        raise InvalidAmount("a sale's total is too large")
    customer: Customer | None = find_customer(session, new.customer_id) if new.customer_id else None
    now = clock.now()
    sale = PosSale(
        pos_id=ids.daily_id(session, "POS", now),
        customer_pk=customer.id if customer else None,
        total_cents=total,
        status=SaleStatus.PENDING.value,
        created_at=now,
        updated_at=now,
    )
    session.add(sale)
    session.flush()
    session.add_all(
        PosSaleItem(
            sale_pk=sale.id,
            product_id=line.product_id,
            product_name=line.product_name,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            line_total_cents=line.quantity * line.unit_price_cents,
        )
        for line in new.items
    )
    session.flush()
    return sale


def find_sale(session: Session, pos_id: str) -> PosSale:
    sale = session.execute(
        select(PosSale).where(PosSale.pos_id == ids.normalize_reference(pos_id))
    ).scalar_one_or_none()
    if sale is None:
        raise SaleNotFound(f"no POS sale {pos_id!r}")
    return sale


def sale_items(session: Session, sale: PosSale) -> list[PosSaleItem]:
    return list(
        session.execute(
            select(PosSaleItem).where(PosSaleItem.sale_pk == sale.id).order_by(PosSaleItem.id)
        ).scalars()
    )
