"""What a callback handler is and what it answers; the slices implement it, the
pipeline runs it. Nothing here touches the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.events import Event

# Work with no customer to lock sorts after work that has one (see `Handler.lock_key`).
NO_LOCK: tuple[int, int] = (9, 0)


class Origin(StrEnum):
    """How a message reached pesadesk; with its source it picks the parser."""

    CALLBACK = "callback"  # Safaricom over HTTP
    PULL = "pull"  # Pull Transactions found it
    STATEMENT = "statement"  # a person imported it from the M-Pesa statement


@dataclass(frozen=True)
class Outcome:
    """What applying a message concluded; written onto its `webhook_logs` row."""

    external_id: str | None = None
    duplicate: bool = False
    flagged: bool = False
    note: str | None = None
    reply: dict[str, Any] = field(default_factory=dict)
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Context:
    """What a handler applies a message with. `proven`: the message's origin is proven
    (the webhook token or the allow-list passed it, or pesadesk itself asked Daraja)."""

    settings: Settings
    clock: Clock
    proven: bool = True

    @property
    def must_verify(self) -> bool:
        """Whether Daraja must confirm this message before it moves money (CONTRACT §8):
        `always`; or `auto` in production for an unproven origin (every origin, when
        `allow_unprotected_webhooks` let the desk start without protection)."""
        security = self.settings.security
        if security.verify_callbacks == "never":
            return False
        if security.verify_callbacks == "always":
            return True
        if self.settings.payments.mpesa.sandbox:
            return False
        return not self.proven or security.allow_unprotected_webhooks

    @property
    def checks_incomplete(self) -> bool:
        """An STK success without receipt or amount is confirmed unless checks are off."""
        return self.settings.security.verify_callbacks != "never"


M = TypeVar("M")
M_contra = TypeVar("M_contra", contravariant=True)


@dataclass(frozen=True)
class Plan:
    """What a handler read before writing: the lock order key and whatever it found
    (a C2B payment's target), handed back to `apply`."""

    lock: tuple[int, int] = NO_LOCK
    found: Any = None


class Handler(Protocol[M_contra]):
    """Applies one kind of message, inside the pipeline's transaction.

    `plan` does the reads that decide which rows `apply` will lock; a batch applies its
    messages in lock order, so two batches lock customers in one order and cannot
    deadlock. `apply` does the writes and returns the outcome with its domain events.
    """

    def external_id(self, message: M_contra) -> str | None: ...

    def plan(self, session: Session, message: M_contra) -> Plan: ...

    def apply(self, session: Session, message: M_contra, plan: Plan, ctx: Context) -> Outcome: ...


@runtime_checkable
class BatchHandler(Handler[M_contra], Protocol[M_contra]):
    """A handler that also takes many messages of its kind at once, so a batch costs a
    fixed number of statements rather than a few per message (issue 12). Same answers
    as `plan` and `apply` one by one, in the order given (the lock order)."""

    def plan_many(self, session: Session, messages: Sequence[M_contra]) -> list[Plan]: ...

    def apply_many(
        self, session: Session, items: Sequence[tuple[M_contra, Plan, Context]]
    ) -> list[Outcome]: ...
