from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Operator, State, Viewer
from pesadesk.api.schemas import SaleIn
from pesadesk.core.money import to_cents
from pesadesk.payments.views import sale_view
from pesadesk.receivables import pos

router = APIRouter(prefix="/api/pos/sales", tags=["pos"])


@router.post("", status_code=201)
async def create_sale(body: SaleIn, state: State, _: Operator) -> dict[str, Any]:
    lines = tuple(
        pos.SaleLine(i.product_id, i.product_name, i.quantity, to_cents(i.unit_price))
        for i in body.items
    )

    def work() -> dict[str, Any]:
        with state.db.write() as session:
            new = pos.NewSale(items=lines, customer_id=body.customer_id)
            return sale_view(session, pos.create_sale(session, new=new, clock=state.clock))

    return await run_in_threadpool(work)


@router.get("/{pos_id}")
async def get_sale(pos_id: str, state: State, _: Viewer) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return sale_view(session, pos.find_sale(session, pos_id))

    return await run_in_threadpool(work)
