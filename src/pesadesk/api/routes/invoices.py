from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Operator, Paging, State, Viewer
from pesadesk.api.problems import answers, explain
from pesadesk.api.schemas import InvoiceIn
from pesadesk.api.schemas.receivables import Invoice, InvoiceList
from pesadesk.core.errors import (
    CustomerNotFound,
    InvalidAmount,
    InvalidInput,
    InvoiceNotFound,
    LossyAmount,
)
from pesadesk.core.money import positive_cents
from pesadesk.receivables import service
from pesadesk.receivables.invoices import NewInvoice

router = APIRouter(prefix="/api/invoices", tags=["invoices"])


@router.post(
    "", status_code=201, response_model=Invoice,
    responses=answers(CustomerNotFound, InvalidAmount, LossyAmount),
)  # fmt: skip
async def create_invoice(body: InvoiceIn, state: State, _: Operator) -> dict[str, Any]:
    """An `UNPAID` invoice `INV-YYYYMMDD-NNNN` (the East Africa Time date) for a customer;
    customer credit is applied to it at once."""
    new = NewInvoice(body.customer_id, positive_cents(body.amount), body.description)
    return await run_in_threadpool(
        service.create_invoice, state.db, new=new, settings=state.settings, clock=state.clock
    )


@router.get("/{invoice_id}", response_model=Invoice, responses=answers(InvoiceNotFound))
async def get_invoice(invoice_id: str, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(service.get_invoice, state.db, invoice_id)


@router.get(
    "", response_model=InvoiceList,
    responses=answers(
        CustomerNotFound,
        explain(InvalidInput, "status must be one of UNPAID, PARTIALLY_PAID, PAID, CANCELLED"),
    ),
)  # fmt: skip
async def list_invoices(
    state: State,
    _: Viewer,
    paging: Paging,
    customer_id: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Invoices, newest first; `status` is `UNPAID`, `PARTIALLY_PAID`, `PAID` or
    `CANCELLED`."""
    page = await run_in_threadpool(
        service.list_invoices, state.db, customer_id=customer_id, status=status, page=paging
    )
    return page.body()
