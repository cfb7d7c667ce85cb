"""Order status moves: pending -> confirmed -> preparing -> delivered; cancelled from any
but delivered. A completed payment is what normally confirms an order."""

from __future__ import annotations

from enum import StrEnum

from pesadesk.core.errors import InvalidTransition


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PREPARING = "preparing"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.PREPARING, OrderStatus.CANCELLED}),
    OrderStatus.PREPARING: frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

PAID_STATUSES = frozenset({OrderStatus.CONFIRMED, OrderStatus.PREPARING, OrderStatus.DELIVERED})


def check_move(current: str, wanted: str) -> bool:
    """True when the move changes something, False for a repeat; raises when not allowed."""
    now, new = OrderStatus(current), OrderStatus(wanted)
    if now == new:
        return False
    if new not in _NEXT[now]:
        raise InvalidTransition(f"an order cannot go from {now.value} to {new.value}")
    return True
