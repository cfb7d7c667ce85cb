"""Refunds and payouts as the API and CLI ask for them: claim the Idempotency-Key and
create the refund in one transaction, send it when it needs no approval, and keep the
result under the key, so a retry with the same key replays it and pays nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.accounts.clients import AccountClients
from pesadesk.accounts.registry import UnknownAccount
from pesadesk.b2c import approval, balance, requests
from pesadesk.b2c.rules import PROCESSING, NewPayout, NewRefund
from pesadesk.b2c.send import send
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.daraja.client import DarajaClient
from pesadesk.db.models import Refund
from pesadesk.db.session import Database
from pesadesk.payments.views import refund_view
from pesadesk.shared import idempotency
from pesadesk.shared.apikeys import Principal
from pesadesk.shared.pages import Page, PageRequest, newest_first


@dataclass(frozen=True)
class RefundAnswer:
    """Where a refund or payout stands after the request: waiting for approval, sent
    (`processing`), or already `failed` (Daraja refused it)."""

    refund_id: str
    kind: str
    status: str
    amount_cents: int
    phone: str
    conversation_id: str | None
    result_desc: str | None

    @classmethod
    def of(cls, refund: Refund) -> RefundAnswer:
        return cls(
            refund_id=refund.refund_id, kind=refund.kind, status=refund.status,
            amount_cents=refund.amount_cents, phone=refund.phone,
            conversation_id=refund.conversation_id, result_desc=refund.result_desc,
        )  # fmt: skip


@dataclass(frozen=True)
class Desk:
    """What a money-out request needs: the database, the Daraja clients of the collection
    accounts (a refund leaves through the B2C of the account that took the money)."""

    db: Database
    clients: AccountClients | None
    settings: Settings
    clock: Clock

    def b2c(self, account: str | None) -> DarajaClient | None:
        if self.clients is None:
            return None
        try:
            return self.clients.b2c(account)
        except UnknownAccount:  # the account has left the settings: its money, the default
            return self.clients.b2c()


def _open(
    desk: Desk, held: idempotency.Claim | None, create: Callable[[Session], Refund]
) -> RefundAnswer | int:
    with desk.db.write() as session:
        replay = idempotency.claim(session, held, now=desk.clock.now())
        if replay is not None:
            return RefundAnswer(**replay)
        return create(session).id


def _load(db: Database, refund_pk: int) -> Refund:
    with db.read() as session:
        found = session.get(Refund, refund_pk)
        assert found is not None
        return found


def _remember(desk: Desk, held: idempotency.Claim | None, answer: RefundAnswer) -> None:
    with desk.db.write() as session:
        idempotency.complete(session, held, asdict(answer), now=desk.clock.now())


async def _send_if_ready(desk: Desk, refund_pk: int) -> Refund:
    refund = await asyncio.to_thread(_load, desk.db, refund_pk)
    b2c = desk.b2c(refund.account)
    if refund.status != PROCESSING or b2c is None:
        return refund
    return await send(
        db=desk.db, daraja=b2c, settings=desk.settings, clock=desk.clock, refund_pk=refund_pk
    )


async def _open_and_send(
    desk: Desk, held: idempotency.Claim | None, create: Callable[[Session], Refund]
) -> RefundAnswer:
    opened = await asyncio.to_thread(_open, desk, held, create)
    if isinstance(opened, RefundAnswer):
        return opened
    sent: Refund | None = None
    try:
        sent = await _send_if_ready(desk, opened)
    finally:
        # Whatever happened while sending, the key gets the refund as it stands, so a
        # retry with the same key replays it instead of hearing "in progress" for ever.
        final = RefundAnswer.of(
            sent if sent is not None else await asyncio.to_thread(_load, desk.db, opened)
        )
        await asyncio.to_thread(_remember, desk, held, final)
    return final


async def refund_payment(
    desk: Desk, *, new: NewRefund, who: Principal, held: idempotency.Claim | None
) -> RefundAnswer:
    requests.require_b2c(desk.settings)

    def create(session: Session) -> Refund:
        return requests.request_refund(
            session, new=new, who=who, settings=desk.settings, clock=desk.clock
        )

    return await _open_and_send(desk, held, create)


async def pay_out(
    desk: Desk, *, new: NewPayout, who: Principal, held: idempotency.Claim | None
) -> RefundAnswer:
    requests.require_b2c(desk.settings)

    def create(session: Session) -> Refund:
        return requests.request_payout(
            session, new=new, who=who, settings=desk.settings, clock=desk.clock
        )

    return await _open_and_send(desk, held, create)


async def decide(desk: Desk, *, refund_id: str, approve: bool, who: Principal) -> Refund:
    """Approve (then send) or reject a refund waiting for a second person."""

    def work() -> int:
        with desk.db.write() as session:
            return approval.decide(
                session, refund_id=refund_id, approve=approve, who=who, clock=desk.clock
            ).id

    return await _send_if_ready(desk, await asyncio.to_thread(work))


def find(db: Database, refund_id: str) -> Refund:
    with db.read() as session:
        return requests.find_refund(session, refund_id)


def list_refunds(
    db: Database, *, status: str | None, payment_id: str | None, page: PageRequest
) -> Page:
    query = select(Refund)
    if status:
        query = query.where(Refund.status == status)
    if payment_id:
        query = query.where(Refund.payment_id == payment_id)
    with db.read() as session:
        return newest_first(session, query, page, keys=[(Refund.id, int)], view=refund_view)


def get_refund(db: Database, refund_id: str) -> dict[str, Any]:
    return refund_view(find(db, refund_id))


def known_balance(db: Database) -> dict[str, Any]:
    with db.read() as session:
        return balance.view(balance.latest(session))
