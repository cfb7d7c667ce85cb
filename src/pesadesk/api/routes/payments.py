from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, Operator, State, Viewer
from pesadesk.api.filters import parse_bound
from pesadesk.api.problems import answers, explain
from pesadesk.api.schemas import AllocateIn, ReviewIn
from pesadesk.api.schemas.payments import CSV_EXAMPLE, Payment, PaymentLedger, PaymentListing
from pesadesk.core.errors import (
    AlreadyAllocated,
    CustomerNotFound,
    InvalidInput,
    InvoiceNotFound,
    PaymentNotFound,
)
from pesadesk.payments import service
from pesadesk.payments.review import NotUnderReview
from pesadesk.shared.pages import PageRequest

router = APIRouter(prefix="/api/payments", tags=["payments"])
LISTING = {
    "model": PaymentListing,
    "description": "JSON (a plain array, or a page with `limit`/`cursor`) or, with "
    "`?format=csv`, CSV of every matching payment",
    "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}},
}


@router.get(
    "", response_model=None,
    responses={200: LISTING, **answers(
        explain(InvalidInput, "status must be one of processing, completed, failed, "
                "cancelled, timeout, unallocated, pending_verification, refunded, "
                "partially_refunded"),
    )},
)  # fmt: skip
async def list_payments(
    state: State,
    _: Viewer,
    status: str | None = None,
    method: str | None = None,
    source: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    needs_review: bool | None = None,
    q: str | None = None,
    account: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    format: str | None = None,  # the contract names this query parameter
) -> StreamingResponse | dict[str, Any]:
    """Every matching payment as a plain array (streamed) or CSV; with `limit`/`cursor`,
    one page. `q` finds a receipt, phone, payer name or reference.

    Filters: `status` (a payment status), `method` (`mpesa`), `source` (`stk` or `c2b`),
    `from`/`to` (`YYYY-MM-DD`, a whole East Africa Time day, `to` inclusive, or a
    datetime; a payment counts at M-Pesa's time, `paid_at`), `needs_review`, `account`
    (a collection account's name); `format`: `json` (default) or `csv`."""
    query = service.filtered(
        status=status, method=method, source=source, start=parse_bound(from_, end=False),
        end=parse_bound(to, end=True), needs_review=needs_review, q=q, account=account,
    )  # fmt: skip
    if format not in (None, "json", "csv"):
        raise InvalidInput("format must be json or csv")
    if format == "csv" or (limit is None and cursor is None):
        fmt = format or "json"
        pieces = service.stream(state.db, query, fmt)
        # The query runs before the first piece, so a database that is down is a 503
        # here, not a 200 with a broken body.
        first = await run_in_threadpool(next, pieces)
        headers = {"Content-Disposition": 'attachment; filename="payments.csv"'}
        return StreamingResponse(
            itertools.chain([first], pieces),
            media_type="text/csv" if fmt == "csv" else "application/json",
            headers=headers if fmt == "csv" else None,
        )
    page = await run_in_threadpool(service.page, state.db, query, PageRequest.of(limit, cursor))
    return page.body()


@router.get("/{payment_id}", response_model=Payment, responses=answers(PaymentNotFound))
async def get_payment(payment_id: str, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(service.get_payment, state.db, payment_id)


@router.get(
    "/{payment_id}/ledger", response_model=PaymentLedger, responses=answers(PaymentNotFound)
)
async def payment_ledger(payment_id: str, state: State, _: Viewer) -> dict[str, Any]:
    """The ledger legs this payment's money moved by."""
    return await run_in_threadpool(service.ledger_legs, state.db, payment_id)


@router.post(
    "/{payment_id}/allocate", response_model=Payment,
    responses=answers(
        PaymentNotFound, InvoiceNotFound, CustomerNotFound, AlreadyAllocated,
        explain(InvalidInput, "give exactly one of invoice_id or customer_id"),
    ),
)  # fmt: skip
async def allocate_payment(
    payment_id: str, body: AllocateIn, state: State, _: Operator
) -> dict[str, Any]:
    """Place an `unallocated` payment on an invoice or a customer's account; it becomes
    `completed`. A second placement is 409."""
    return await run_in_threadpool(
        lambda: service.allocate(
            state.db, payment_id=payment_id, invoice_id=body.invoice_id,
            customer_id=body.customer_id, settings=state.settings, clock=state.clock,
        )
    )  # fmt: skip


@router.post(
    "/{payment_id}/review", response_model=Payment,
    responses=answers(PaymentNotFound, NotUnderReview),
)  # fmt: skip
async def close_review(payment_id: str, body: ReviewIn, state: State, who: Admin) -> dict[str, Any]:
    """An admin closes a payment's review with a note saying what was done."""
    return await run_in_threadpool(
        lambda: service.close_review(
            state.db, payment_id=payment_id, note=body.note, who=who, clock=state.clock
        )
    )
