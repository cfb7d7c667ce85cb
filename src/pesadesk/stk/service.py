"""Orders as the API and CLI use them: each function is one transaction and returns the
order as the API shows it. Paying one is `stk.pay`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pesadesk.core.clock import Clock
from pesadesk.db.models import Order
from pesadesk.db.session import Database
from pesadesk.shared.pages import Page, PageRequest, newest_first
from pesadesk.stk import orders


def create_order(db: Database, *, new: orders.NewOrder, clock: Clock) -> dict[str, Any]:
    with db.write() as session:
        return orders.order_view(orders.create_order(session, new=new, clock=clock))


def get_order(db: Database, order_id: int) -> dict[str, Any]:
    with db.read() as session:
        return orders.order_view(orders.find_order(session, order_id))


def list_orders(db: Database, *, status: str | None, page: PageRequest) -> Page:
    query = select(Order)
    if status:
        query = query.where(Order.status == status)
    with db.read() as session:
        return newest_first(session, query, page, keys=[(Order.id, int)], view=orders.order_view)


def change_status(db: Database, *, order_id: int, status: str, clock: Clock) -> dict[str, Any]:
    with db.write() as session:
        order = orders.change_status(session, order_id=order_id, status=status, clock=clock)
        return orders.order_view(order)
