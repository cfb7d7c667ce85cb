"""Every consumer of domain events, in the order they run."""

from __future__ import annotations

from pesadesk.events.fanout import webhook_deliveries
from pesadesk.events.types import Consumer
from pesadesk.notify.notices import order_notices, refund_notices

CONSUMERS: tuple[Consumer, ...] = (order_notices, refund_notices, webhook_deliveries)
