from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from pesadesk.accounts.registry import UnknownAccount
from pesadesk.api.deps import Operator, State, Viewer
from pesadesk.api.problems import DARAJA_CALL, answers, explain
from pesadesk.api.schemas import SaleIn
from pesadesk.api.schemas.receivables import Sale
from pesadesk.core.errors import (
    CustomerNotFound,
    InvalidAmount,
    InvalidInput,
    LossyAmount,
    SaleNotFound,
)
from pesadesk.core.money import to_cents
from pesadesk.receivables import qr, service
from pesadesk.receivables.pos import NewSale, SaleLine
from pesadesk.receivables.qr import SalePaid

router = APIRouter(prefix="/api/pos/sales", tags=["pos"])
PNG = {
    "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
    "description": "The sale's Dynamic QR, a PNG",
}


@router.post(
    "", status_code=201, response_model=Sale,
    responses=answers(
        explain(InvalidInput, "a sale's total must be greater than zero"), InvalidAmount,
        LossyAmount, CustomerNotFound,
    ),
)  # fmt: skip
async def create_sale(body: SaleIn, state: State, _: Operator) -> dict[str, Any]:
    """A `PENDING` sale `POS-YYYYMMDD-NNNN`; paid by C2B with the POS id as the account,
    it becomes `PAID` with an invoice."""
    lines = tuple(
        SaleLine(i.product_id, i.product_name, i.quantity, to_cents(i.unit_price))
        for i in body.items
    )
    new = NewSale(items=lines, customer_id=body.customer_id)
    return await run_in_threadpool(service.create_sale, state.db, new=new, clock=state.clock)


@router.get("/{pos_id}", response_model=Sale, responses=answers(SaleNotFound))
async def get_sale(pos_id: str, state: State, _: Viewer) -> dict[str, Any]:
    """After payment: `status: "PAID"` and the `invoice_id` made for it."""
    return await run_in_threadpool(service.get_sale, state.db, pos_id)


@router.get(
    "/{pos_id}/qr",
    response_class=Response,
    responses={200: PNG, **answers(SaleNotFound, SalePaid, UnknownAccount, DARAJA_CALL)},
)
async def sale_qr(pos_id: str, state: State, _: Viewer, account: str | None = None) -> Response:
    """The Dynamic QR a customer scans to pay this sale (drawn by Daraja, kept per sale)."""
    png = await qr.sale_qr(
        state.db, state.require_runtime().clients, pos_id=pos_id, account=account,
        clock=state.clock,
    )  # fmt: skip
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
