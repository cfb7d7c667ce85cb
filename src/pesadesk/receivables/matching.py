"""What money that arrived is for: the account number a customer typed (an invoice,
a POS sale or a customer id, in any case), else the customer whose phone paid.

One payment or a batch: `match_many` answers a whole batch with at most two statements
whose text does not depend on its size (`ListSql`), so the hot path's reads do not grow
with the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pesadesk.db.sql import ListSql
from pesadesk.shared import ids


@dataclass(frozen=True)
class Target:
    """Where money should go: an invoice first, else a customer's account."""

    customer_pk: int | None
    invoice_pk: int | None = None
    sale_pk: int | None = None


@dataclass(frozen=True)
class Payer:
    """What a payment says about itself: the account number typed, the payer's hash."""

    reference: str | None
    msisdn_hash: str | None


_BY_KEYS = ListSql(
    """SELECT 'invoice', invoice_id, customer_pk, id, pos_sale_pk FROM invoices
           WHERE invoice_id {keys}
       UNION ALL SELECT 'sale', pos_id, customer_pk, NULL, id FROM pos_sales WHERE pos_id {keys}
       UNION ALL SELECT 'customer', customer_id, id, NULL, NULL FROM customers
           WHERE customer_id {keys}""",
    keys="text",
)
_BY_HASHES = ListSql(
    "SELECT phone_hash, MIN(id) FROM customers WHERE phone_hash {hashes} GROUP BY phone_hash",
    hashes="text",
)

# Which table a typed key is looked up in first: its prefix says what it most likely is.
_PRECEDENCE = {
    "INV-": ("invoice", "sale", "customer"),
    "POS-": ("sale", "invoice", "customer"),
}
_DEFAULT_PRECEDENCE = ("customer", "invoice", "sale")


def match_many(session: Session, payers: Sequence[Payer]) -> list[Target | None]:
    """Each payer's target, in order (None: nothing matches; the money waits for a person)."""
    conn = session.connection()
    keys = sorted({key for p in payers if (key := ids.normalize_reference(p.reference))})
    found: dict[tuple[str, str], Target] = {}
    if keys:
        for kind, key, customer_pk, invoice_pk, sale_pk in _BY_KEYS.run(conn, {"keys": keys}):
            found[(kind, key)] = Target(customer_pk, invoice_pk, sale_pk)
    targets: list[Target | None] = []
    for payer in payers:
        key = ids.normalize_reference(payer.reference)
        order = _PRECEDENCE.get(key[:4], _DEFAULT_PRECEDENCE)
        targets.append(next((found[(k, key)] for k in order if (k, key) in found), None))
    hashes = sorted(
        {p.msisdn_hash for p, t in zip(payers, targets, strict=True) if t is None and p.msisdn_hash}
    )
    if hashes:
        owners = dict(_BY_HASHES.run(conn, {"hashes": hashes}).all())
        targets = [
            t if t is not None or not p.msisdn_hash or p.msisdn_hash not in owners
            else Target(customer_pk=owners[p.msisdn_hash])
            for p, t in zip(payers, targets, strict=True)
        ]  # fmt: skip
    return targets


def match_reference(session: Session, reference: str | None) -> Target | None:
    """An invoice, POS sale or customer id typed as the account number (any case)."""
    if not ids.normalize_reference(reference):
        return None
    return match_many(session, [Payer(reference, None)])[0]


def match(session: Session, reference: str | None, msisdn_hash: str | None) -> Target | None:
    """The typed account number's target, else the paying phone's customer."""
    return match_many(session, [Payer(reference, msisdn_hash)])[0]
