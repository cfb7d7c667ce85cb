"""Pull Transactions recovery: C2B payments Daraja received but whose confirmation never
reached us are recorded as if it had (idempotent with it: the TransID decides)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog

from pesadesk.c2b import service as c2b
from pesadesk.c2b.message import C2BTransaction, classify_msisdn
from pesadesk.core.clock import Clock
from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.schemas import PullTransaction
from pesadesk.db.session import Database

log = structlog.get_logger(__name__)
MAX_PAGES = 100
CLOCK_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class PullResult:
    seen: int
    recorded: list[str]


def _as_transaction(item: PullTransaction) -> C2BTransaction:
    as_sent, hashed = classify_msisdn(item.msisdn)
    return C2BTransaction(
        trans_id=item.transaction_id.strip(),
        amount_cents=item.amount_cents,
        bill_ref=(item.bill_reference or "")[:100],
        msisdn_as_sent=as_sent,
        msisdn_hash=hashed,
        payer_name=(item.sender or None),
        trans_time=item.received_at,
        shortcode=None,
    )


def _record(db: Database, txn: C2BTransaction, clock: Clock) -> bool:
    with db.write() as session:
        return not c2b.record_confirmation(session, txn=txn, clock=clock).duplicate


async def pull_missed(
    *, db: Database, daraja: DarajaClient, clock: Clock, hours: float = 24
) -> PullResult:
    """Ask for the last `hours` (Daraja keeps 48) and record what we lack."""
    now = clock.now()
    start = now - timedelta(hours=min(hours, 48))
    end = now + CLOCK_SLACK  # Daraja takes whole seconds, and its clock is not ours
    seen = 0
    recorded: list[str] = []
    offset = 0
    for _ in range(MAX_PAGES):
        answer = await daraja.pull_query(start=start, end=end, offset=offset)
        if not answer.transactions:
            break
        for item in answer.transactions:
            seen += 1
            txn = _as_transaction(item)
            if await asyncio.to_thread(_record, db, txn, clock):
                recorded.append(txn.trans_id)
                log.info("c2b_recovered_by_pull", trans_id=txn.trans_id)
        offset += len(answer.transactions)
    return PullResult(seen=seen, recorded=recorded)
