"""Recording many C2B payments in one go: one INSERT for all their rows (`ON CONFLICT DO
NOTHING`, so of any copies only the first is new), then their money placed together.
A confirmation alone is a batch of one (`record_confirmation`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from pesadesk.c2b import service
from pesadesk.core.clock import Clock
from pesadesk.core.statuses import PaymentStatus
from pesadesk.daraja.callbacks import C2BPayment
from pesadesk.receivables import placement
from pesadesk.receivables.matching import Target
from pesadesk.receivables.placement import PlaceRequest

_COLUMNS = (
    ("id", "text"), ("amount", "bigint"), ("account", "text"), ("shortcode", "text"),
    ("status", "text"), ("phone", "text"), ("hash", "text"), ("name", "text"),
    ("reference", "text"), ("trans_id", "text"), ("customer_pk", "integer"),
    ("invoice_pk", "integer"), ("sale_pk", "integer"), ("paid_at", "timestamptz"),
    ("now", "timestamptz"),
)  # fmt: skip
_UNNEST = ", ".join(f"CAST(%({name})b AS {kind}[])" for name, kind in _COLUMNS)
# Fixed column names and placeholders only.
_INSERT_MANY = (
    "INSERT INTO payments (id, order_id, amount_cents, currency, method, status, source, "  # noqa: S608
    "account, shortcode, phone, msisdn_hash, payer_name, reference, provider_ref, receipt, "
    "customer_pk, invoice_pk, pos_sale_pk, unplaced_cents, needs_review, query_attempts, "
    "paid_at, created_at, updated_at) "
    "SELECT u.id, NULL, u.amount, 'KES', 'mpesa', u.status, 'c2b', u.account, u.shortcode, "
    "u.phone, u.hash, u.name, u.reference, u.trans_id, u.trans_id, u.customer_pk, "
    "u.invoice_pk, u.sale_pk, 0, false, 0, u.paid_at, u.now, u.now "
    f"FROM unnest({_UNNEST}) AS u({', '.join(n for n, _ in _COLUMNS)}) "
    "ON CONFLICT DO NOTHING RETURNING id"
)


@dataclass(frozen=True)
class Arrived:
    """A confirmation to record: the payment, where its money goes, whose account."""

    txn: C2BPayment
    target: Target | None
    account: str = "default"


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """The ids of the rows that are new (copies and known TransIDs insert nothing)."""
    if conn.dialect.name == "postgresql":
        params = {name: [row[name] for row in rows] for name, _ in _COLUMNS}
        return {str(r[0]) for r in conn.exec_driver_sql(_INSERT_MANY, params)}
    new = set()
    for row in rows:
        got = service.INSERT_PAYMENT.run(conn, {**row, "verify": None, "ask_at": None})
        found = got.scalar_one_or_none()
        if found is not None:
            new.add(str(found))
    return new


def record_many(
    session: Session, arrived: Sequence[Arrived], clock: Clock
) -> list[service.Recorded]:
    """Record each confirmation once and place the new ones' money, in the order given
    (the lock order); copies (in this batch or from before) are reported as duplicates."""
    if not arrived:
        return []
    now = clock.now()
    conn = session.connection()
    rows = []
    for item in arrived:
        status = PaymentStatus.COMPLETED if item.target else PaymentStatus.UNALLOCATED
        rows.append(
            service.row_values(item.txn, item.target, account=item.account, status=status,
                               conn=conn, now=now)
        )  # fmt: skip
    inserted = _insert(conn, rows)
    fresh: list[int] = []
    for n, row in enumerate(rows):
        if row["id"] in inserted:
            inserted.discard(row["id"])  # a second copy in this batch is a duplicate
            fresh.append(n)
    requests = [
        PlaceRequest(rows[n]["id"], arrived[n].txn.amount_cents, arrived[n].target) for n in fresh
    ]
    placed = dict(zip(fresh, placement.place_many(session, requests, clock), strict=True))
    recorded: list[service.Recorded] = []
    for n, item in enumerate(arrived):
        done = placed.get(n)
        if done is None:
            recorded.append(service.duplicate_of(session, item.txn))
            continue
        target = item.target
        if target and (done.unplaced_cents or done.invoice_pk != target.invoice_pk):
            service.store_placement(session, rows[n]["id"], done, now)
        recorded.append(
            service.Recorded(rows[n]["id"], duplicate=False, status=done.status.value,
                             placement=done)
        )  # fmt: skip
    return recorded


_UNRESOLVED: Any = object()


def record_confirmation(
    session: Session,
    *,
    txn: C2BPayment,
    clock: Clock,
    target: Target | None = _UNRESOLVED,
    pending_reason: str | None = None,
    account: str = "default",
) -> service.Recorded:
    """One confirmation: recorded and placed, or (with a `pending_reason`) only recorded,
    `pending_verification`, until Daraja confirms it (`c2b.verify`)."""
    if pending_reason is None:
        found = service.find_target(session, txn) if target is _UNRESOLVED else target
        return record_many(session, [Arrived(txn, found, account)], clock)[0]
    now = clock.now()
    conn = session.connection()
    values = service.row_values(
        txn, None, account=account, status=PaymentStatus.PENDING_VERIFICATION, conn=conn, now=now
    )
    values.update(verify=pending_reason, ask_at=values["now"])
    if service.INSERT_PAYMENT.run(conn, values).scalar_one_or_none() is None:
        return service.duplicate_of(session, txn)
    return service.Recorded(values["id"], duplicate=False, status=values["status"], pending=True)
