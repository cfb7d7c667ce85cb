from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Operator, State, Viewer
from pesadesk.api.pagination import newest_first
from pesadesk.api.schemas import Body
from pesadesk.core.errors import InvalidInput
from pesadesk.core.money import positive_cents
from pesadesk.db.models import Order
from pesadesk.pipeline import ingest as webhooks
from pesadesk.stk import orders
from pesadesk.stk import service as stk

router = APIRouter(prefix="/api/orders", tags=["orders"])


class OrderIn(Body):
    customer_phone: str = Field(min_length=1, max_length=20)
    amount: Decimal
    delivery_location: str = Field(min_length=1, max_length=300)
    items: list[dict[str, Any]] | None = Field(default=None, max_length=200)


class OrderPatch(Body):
    status: str


class PayIn(Body):
    phone: str | None = Field(default=None, max_length=20)


@router.post("", status_code=201)
async def create_order(body: OrderIn, state: State, _: Operator) -> dict[str, Any]:
    new = orders.NewOrder(
        body.customer_phone, positive_cents(body.amount), body.delivery_location, body.items
    )

    def work() -> dict[str, Any]:
        with state.db.write() as session:
            return orders.order_view(orders.create_order(session, new=new, clock=state.clock))

    return await run_in_threadpool(work)


@router.get("")
async def list_orders(
    state: State,
    _: Viewer,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    query = select(Order)
    if status:
        query = query.where(Order.status == status)
    return await newest_first(
        state.db, query, Order.id, orders.order_view, limit=limit, cursor=cursor
    )


@router.get("/{order_id}")
async def get_order(order_id: int, state: State, _: Viewer) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return orders.order_view(orders.find_order(session, order_id))

    return await run_in_threadpool(work)


@router.patch("/{order_id}")
async def patch_order(order_id: int, body: OrderPatch, state: State, _: Operator) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.write() as session:
            order = orders.change_status(
                session, order_id=order_id, status=body.status, clock=state.clock
            )
            return orders.order_view(order)

    return await run_in_threadpool(work)


@router.post("/{order_id}/pay", status_code=202)
async def pay_order(
    order_id: int,
    state: State,
    _: Operator,
    body: PayIn | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    if not state.settings.payments.enabled:
        raise InvalidInput("payments are disabled (payments.enabled: false)")
    result = await stk.pay_order(
        db=state.db,
        daraja=state.require_runtime().daraja,
        settings=state.settings,
        clock=state.clock,
        order_id=order_id,
        phone=body.phone if body else None,
        idempotency_key=idempotency_key,
    )
    checkout = result.body.get("provider_ref")
    if result.status_code == 202 and checkout:  # a callback that beat us here is applied now
        await run_in_threadpool(
            webhooks.rerun_flagged, state.db, source="stk", external_id=checkout,
            settings=state.settings, clock=state.clock,
        )  # fmt: skip
    return JSONResponse(result.body, status_code=result.status_code)
