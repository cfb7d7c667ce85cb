"""A Dynamic QR for a POS sale (CONTRACT §9): the customer scans instead of typing the
paybill and account number. Daraja draws it (`TrxCode` PB with the paybill and the sale's
id as the account, or BG with the till); it is kept per sale and account, so Daraja is
asked once. The money still arrives as a C2B confirmation naming the sale."""

from __future__ import annotations

import asyncio
from typing import Literal, cast

from sqlalchemy import Table, select

from pesadesk.accounts.clients import AccountClients
from pesadesk.accounts.registry import DEFAULT, CollectionAccount
from pesadesk.core.clock import Clock
from pesadesk.core.errors import Conflict
from pesadesk.core.statuses import SaleStatus
from pesadesk.db.dml import insert_ignore
from pesadesk.db.models import PosSale, SaleQr
from pesadesk.db.session import Database
from pesadesk.receivables.pos import find_sale


class SalePaid(Conflict):
    """Raised when a QR is asked for a sale that is already paid."""

    code = "sale_paid"


def _cached(db: Database, pos_id: str, account: str) -> tuple[PosSale, bytes | None]:
    with db.read() as session:
        sale = find_sale(session, pos_id)
        png = session.execute(
            select(SaleQr.png).where(SaleQr.sale_pk == sale.id, SaleQr.account == account)
        ).scalar_one_or_none()
        return sale, png


def _keep(db: Database, sale_pk: int, account: str, png: bytes, clock: Clock) -> bytes:
    """Store it; if another request stored one first, that one is the sale's QR."""
    table = SaleQr.__table__
    assert isinstance(table, Table)
    with db.write() as session:
        insert_ignore(
            session, table,
            {"sale_pk": sale_pk, "account": account, "png": png, "created_at": clock.now()},
            returning=table.c.sale_pk,
        )  # fmt: skip
        return bytes(
            session.execute(
                select(SaleQr.png).where(SaleQr.sale_pk == sale_pk, SaleQr.account == account)
            ).scalar_one()
        )


def merchant_name(account: CollectionAccount) -> str:
    if account.name == DEFAULT:
        return f"{'Till' if account.kind == 'till' else 'Paybill'} {account.qr_cpi}"
    return account.name.upper()[:60]


async def sale_qr(
    db: Database, clients: AccountClients, *, pos_id: str, account: str | None, clock: Clock
) -> bytes:
    """The PNG of the sale's QR through `account` (the default one without a name)."""
    chosen = clients.account(account)
    sale, png = await asyncio.to_thread(_cached, db, pos_id, chosen.name)
    if png is not None:
        return bytes(png)
    if sale.status == SaleStatus.PAID.value:
        raise SalePaid(f"sale {sale.pos_id} is paid; there is nothing to scan for")
    code = await clients.c2b(chosen.name).qr_generate(
        merchant_name=merchant_name(chosen), ref_no=sale.pos_id, amount_cents=sale.total_cents,
        trx_code=cast(Literal["PB", "BG"], chosen.trx_code), cpi=chosen.qr_cpi,
    )  # fmt: skip
    return await asyncio.to_thread(_keep, db, sale.id, chosen.name, code.png, clock)
