"""Answers for the people who run the desk: keys, the audit trail, the raw callbacks,
the numbers and the health probes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from pesadesk.api.schemas.common import Answer, Kes, Page, Time, TimeOrNone
from pesadesk.core.statuses import Role, WebhookSource


class Me(Answer):
    """The calling key."""

    key_id: int | None = Field(description="null for the configured admin key", examples=[7])
    name: str = Field(examples=["till-1"])
    owner: str = Field(description="The person the key belongs to", examples=["Achieng Otieno"])
    role: Role


class ApiKey(Answer):
    """An API key as listed: never the key itself."""

    id: int = Field(examples=[7])
    name: str = Field(examples=["till-1"])
    owner: str = Field(examples=["Achieng Otieno"])
    role: Role
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    created_at: Time
    revoked_at: TimeOrNone


class NewApiKey(ApiKey):
    """The new key; `key` is shown this once and never again."""

    key: str = Field(examples=["pd_3q2V1mHq0yH3cQ0b5Jt0bJwq1m9qf3Vq6dYw6sSx2WQ"])


class ApiKeyList(Page[ApiKey]):
    """API keys, newest first, revoked ones included."""


class AuditEntry(Answer):
    """One link of the audit chain: who did what to which object, before and after."""

    id: int = Field(examples=[42])
    at: Time
    actor: str = Field(examples=["Achieng Otieno"])
    action: str = Field(examples=["refund.approved"])
    subject: str = Field(examples=["RF-20260206-0001"])
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: str = Field(description="SHA-256 over this entry and prev_hash")
    prev_hash: str


class AuditList(Page[AuditEntry]):
    """The audit trail, newest first."""


class WebhookLog(Answer):
    """A callback exactly as it arrived, and what processing made of it."""

    id: int = Field(examples=[1042])
    source: WebhookSource
    origin: str = Field(
        description="`callback`, or how else it was recorded (a Pull, a statement)",
        examples=["callback"],
    )
    raw_payload: str = Field(description="The body as received (UTF-8)")
    received_at: Time
    processed: bool
    is_duplicate: bool
    flagged: bool = Field(description="Kept for a person; it credited nothing")
    error: str | None = Field(examples=["unknown CheckoutRequestID ws_CO_0000"])
    error_kind: str | None = Field(examples=[None])
    attempts: int = Field(examples=[1])
    remote_addr: str | None = Field(examples=["196.201.214.200"])
    external_id: str | None = Field(
        description="TransID, CheckoutRequestID or ConversationID", examples=["RKL51ZDR4F"]
    )


class WebhookLogList(Page[WebhookLog]):
    """The raw callbacks, newest first."""


class Reprocessed(Answer):
    """The callback run again, and its log entry as it now stands."""

    reprocessed: bool = Field(
        description="False when it was processed already or failed again (see log.error)"
    )
    log: WebhookLog


class Stats(Answer):
    """Totals for the period: orders, payments, refunds and callbacks."""

    total_orders: int
    pending_orders: int
    delivered_orders: int
    total_revenue: Kes = Field(description="Amounts of orders that were paid")
    total_payments: int
    completed_payments: int = Field(description="completed, refunded, partially_refunded")
    failed_payments: int = Field(description="failed, cancelled, timeout")
    payment_revenue: Kes = Field(description="Money received less money refunded")
    refunded_amount: Kes
    unallocated_payments: int
    unallocated_amount: Kes
    processing_payments: int
    callbacks_received: int
    duplicate_callbacks: int
    flagged_callbacks: int
    webhook_success_rate: float | None = Field(
        description="Share of callbacks processed, 0..1", examples=[0.9975]
    )


class Day(Answer):
    """One East Africa Time day."""

    date: str = Field(examples=["2026-02-06"])
    payments: int
    completed_payments: int
    amount_received: Kes
    failed_payments: int
    stk: Kes = Field(description="Received by STK Push")
    c2b: Kes = Field(description="Received by paybill or till")
    refunded: Kes
    net: Kes = Field(description="Received less refunded")
    success_rate: float | None = Field(
        description="Completed among finished payments, 0..1", examples=[0.95]
    )


class Days(Answer):
    """Every day with payments, oldest first, in one page."""

    data: list[Day]
    next_cursor: None = Field(description="Always null: the days come in one page")


class Health(Answer):
    """The process answers."""

    status: Literal["ok"]


class Ready(Answer):
    """The database takes writes."""

    status: Literal["ready"]
    database: Literal["ok"]
