from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Operator, State, Viewer
from pesadesk.api.schemas import SaleIn
from pesadesk.core.money import to_cents
from pesadesk.receivables import qr, service
from pesadesk.receivables.pos import NewSale, SaleLine

router = APIRouter(prefix="/api/pos/sales", tags=["pos"])


@router.post("", status_code=201)
async def create_sale(body: SaleIn, state: State, _: Operator) -> dict[str, Any]:
    lines = tuple(
        SaleLine(i.product_id, i.product_name, i.quantity, to_cents(i.unit_price))
        for i in body.items
    )
    new = NewSale(items=lines, customer_id=body.customer_id)
    return await run_in_threadpool(service.create_sale, state.db, new=new, clock=state.clock)


@router.get("/{pos_id}")
async def get_sale(pos_id: str, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(service.get_sale, state.db, pos_id)


@router.get(
    "/{pos_id}/qr",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the sale's Dynamic QR"}},
)
async def sale_qr(pos_id: str, state: State, _: Viewer, account: str | None = None) -> Response:
    """The Dynamic QR a customer scans to pay this sale (drawn by Daraja, kept per sale)."""
    png = await qr.sale_qr(
        state.db, state.require_runtime().clients, pos_id=pos_id, account=account,
        clock=state.clock,
    )  # fmt: skip
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
