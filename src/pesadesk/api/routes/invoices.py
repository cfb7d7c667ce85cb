from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Operator, State, Viewer
from pesadesk.api.pagination import clamp_limit, decode_cursor, page
from pesadesk.api.schemas import InvoiceIn
from pesadesk.core.errors import InvalidInput
from pesadesk.core.money import positive_cents
from pesadesk.core.statuses import InvoiceStatus
from pesadesk.db.models import Customer, Invoice
from pesadesk.payments.views import invoice_view, invoice_view_loaded
from pesadesk.receivables import invoices
from pesadesk.receivables.customers import find_customer

router = APIRouter(prefix="/api/invoices", tags=["invoices"])


@router.post("", status_code=201)
async def create_invoice(body: InvoiceIn, state: State, _: Operator) -> dict[str, Any]:
    amount = positive_cents(body.amount)

    def work() -> dict[str, Any]:
        with state.db.write() as session:
            new = invoices.NewInvoice(body.customer_id, amount, body.description)
            invoice = invoices.create_invoice(session, new=new, clock=state.clock)
            return invoice_view_loaded(session, invoice)

    return await run_in_threadpool(work)


@router.get("/{invoice_id}")
async def get_invoice(invoice_id: str, state: State, _: Viewer) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return invoice_view_loaded(session, invoices.find_invoice(session, invoice_id))

    return await run_in_threadpool(work)


@router.get("")
async def list_invoices(
    state: State,
    _: Viewer,
    customer_id: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    size = clamp_limit(limit)
    if status is not None and status.upper() not in InvoiceStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(InvoiceStatus)}")

    def work() -> dict[str, Any]:
        with state.db.read() as session:
            query = (
                select(Invoice, Customer.customer_id)
                .outerjoin(Customer, Customer.id == Invoice.customer_pk)
                .order_by(Invoice.id.desc())
                .limit(size + 1)
            )
            if customer_id:
                query = query.where(Invoice.customer_pk == find_customer(session, customer_id).id)
            if status:
                query = query.where(Invoice.status == status.upper())
            if cursor:
                query = query.where(Invoice.id < int(decode_cursor(cursor)[0]))
            rows, next_cursor = page(list(session.execute(query).all()), size, lambda r: [r[0].id])
            return {
                "data": [invoice_view(inv, cust) for inv, cust in rows],
                "next_cursor": next_cursor,
            }

    return await run_in_threadpool(work)
