from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, AppState, Operator, State, Viewer
from pesadesk.api.filters import parse_bound
from pesadesk.api.pagination import BadCursor, clamp_limit, decode_cursor, page
from pesadesk.api.schemas import AllocateIn, ReviewIn
from pesadesk.c2b import service as c2b
from pesadesk.core.errors import InvalidInput, PaymentNotFound
from pesadesk.db.models import Payment
from pesadesk.payments import export as payment_export
from pesadesk.payments import review
from pesadesk.payments.export import row_view
from pesadesk.payments.views import payment_select

router = APIRouter(prefix="/api/payments", tags=["payments"])


@router.get("", response_model=None)
async def list_payments(
    state: State,
    _: Viewer,
    status: str | None = None,
    method: str | None = None,
    source: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    needs_review: bool | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    format: str | None = None,  # the contract names this query parameter
) -> StreamingResponse | dict[str, Any]:
    query = payment_export.filtered(
        status=status,
        method=method,
        source=source,
        start=parse_bound(from_, end=False),
        end=parse_bound(to, end=True),
        needs_review=needs_review,
    )
    if format not in (None, "json", "csv"):
        raise InvalidInput("format must be json or csv")
    if format == "csv" or (limit is None and cursor is None):
        fmt = format or "json"
        pieces = payment_export.stream(state.db, query, fmt)
        # The query runs before the first piece, so a database that is down is a 503
        # here, not a 200 with a broken body.
        first = await run_in_threadpool(next, pieces)
        headers = {"Content-Disposition": 'attachment; filename="payments.csv"'}
        return StreamingResponse(
            itertools.chain([first], pieces),
            media_type="text/csv" if fmt == "csv" else "application/json",
            headers=headers if fmt == "csv" else None,
        )
    size = clamp_limit(limit)

    def work() -> dict[str, Any]:
        paged = query.limit(size + 1)
        if cursor:
            created_iso, last_id = decode_cursor(cursor, (str, str))
            try:
                bound = parse_bound(created_iso, end=False)
            except InvalidInput:
                raise BadCursor("cursor is not valid") from None
            paged = paged.where(
                (Payment.created_at < bound)
                | ((Payment.created_at == bound) & (Payment.id < last_id))
            )
        with state.db.read() as session:
            rows, next_cursor = page(
                list(session.execute(paged).all()),
                size,
                lambda r: [r[0].created_at.isoformat(), r[0].id],
            )
            return {"data": [row_view(row) for row in rows], "next_cursor": next_cursor}

    return await run_in_threadpool(work)


@router.get("/{payment_id}")
async def get_payment(payment_id: str, state: State, _: Viewer) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.read() as session:
            row = session.execute(payment_select().where(Payment.id == payment_id)).first()
            if row is None:
                raise PaymentNotFound(f"no payment {payment_id!r}")
            return row_view(row)

    return await run_in_threadpool(work)


def _view(state: AppState, payment_id: str) -> dict[str, Any]:
    """The payment as the API shows it, read after a change committed."""
    with state.db.read() as session:
        return row_view(session.execute(payment_select().where(Payment.id == payment_id)).one())


@router.post("/{payment_id}/allocate")
async def allocate(payment_id: str, body: AllocateIn, state: State, _: Operator) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.write() as session:
            c2b.allocate_payment(
                session,
                payment_id=payment_id,
                invoice_id=body.invoice_id,
                customer_id=body.customer_id,
                clock=state.clock,
            )
        return _view(state, payment_id)

    return await run_in_threadpool(work)


@router.post("/{payment_id}/review")
async def close_review(payment_id: str, body: ReviewIn, state: State, who: Admin) -> dict[str, Any]:
    """An admin closes a payment's review with a note saying what was done."""

    def work() -> dict[str, Any]:
        with state.db.write() as session:
            review.close_review(
                session, payment_id=payment_id, note=body.note, who=who, now=state.clock.now()
            )
        return _view(state, payment_id)

    return await run_in_threadpool(work)
