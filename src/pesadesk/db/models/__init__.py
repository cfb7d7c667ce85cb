"""Tables. Money columns are integer cents (`*_cents`); times are aware UTC.

Uniqueness that protects money (TransID, receipts, sequence numbers, key hashes) is a
database constraint here, so concurrent requests cannot get around it.
"""

from __future__ import annotations

from pesadesk.db.models.access import ApiKey, AuditEntry, StatementImport
from pesadesk.db.models.base import Base
from pesadesk.db.models.callbacks import (
    Event,
    IdempotencyKey,
    OutboxMessage,
    RateLimit,
    Sequence,
    WebhookLog,
)
from pesadesk.db.models.ledger import LedgerEntry, LedgerJournal
from pesadesk.db.models.money import Customer, Invoice, Order, Payment, PosSale, PosSaleItem, SaleQr
from pesadesk.db.models.moneyout import BalanceSnapshot, Refund, RefundRequest
from pesadesk.db.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookSubscription

__all__ = [
    "ApiKey",
    "AuditEntry",
    "BalanceSnapshot",
    "Base",
    "Customer",
    "Event",
    "IdempotencyKey",
    "Invoice",
    "LedgerEntry",
    "LedgerJournal",
    "Order",
    "OutboxMessage",
    "Payment",
    "PosSale",
    "PosSaleItem",
    "RateLimit",
    "Refund",
    "RefundRequest",
    "SaleQr",
    "Sequence",
    "StatementImport",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookLog",
    "WebhookSubscription",
]
