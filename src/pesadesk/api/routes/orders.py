from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import IdempotencyKey, Operator, Paging, RowId, State, Viewer
from pesadesk.api.problems import status_of_code
from pesadesk.api.schemas import Body
from pesadesk.core.errors import InvalidInput
from pesadesk.core.money import positive_cents, to_json_number
from pesadesk.shared import idempotency
from pesadesk.stk import pay, service
from pesadesk.stk.orders import NewOrder

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
    account: str | None = Field(default=None, max_length=40)  # a collection account's name


@router.post("", status_code=201)
async def create_order(body: OrderIn, state: State, _: Operator) -> dict[str, Any]:
    new = NewOrder(
        body.customer_phone, positive_cents(body.amount), body.delivery_location, body.items
    )
    return await run_in_threadpool(service.create_order, state.db, new=new, clock=state.clock)


@router.get("")
async def list_orders(
    state: State, _: Viewer, paging: Paging, status: str | None = None
) -> dict[str, Any]:
    page = await run_in_threadpool(service.list_orders, state.db, status=status, page=paging)
    return page.body()


@router.get("/{order_id}")
async def get_order(order_id: RowId, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(service.get_order, state.db, order_id)


@router.patch("/{order_id}")
async def patch_order(
    order_id: RowId, body: OrderPatch, state: State, _: Operator
) -> dict[str, Any]:
    return await run_in_threadpool(
        service.change_status, state.db, order_id=order_id, status=body.status, clock=state.clock
    )


def pay_answer(outcome: pay.PayOutcome) -> JSONResponse:
    """202 once Daraja took the push; Daraja's refusal or a lost answer as an error."""
    if outcome.accepted:
        return JSONResponse(
            {"payment_id": outcome.payment_id, "order_id": outcome.order_id,
             "status": outcome.status, "provider_ref": outcome.provider_ref,
             "amount": to_json_number(outcome.amount_cents), "message": outcome.message},
            status_code=202,
        )  # fmt: skip
    return JSONResponse(
        {"error": outcome.message, "code": outcome.error_code, "payment_id": outcome.payment_id,
         "status": outcome.status},
        status_code=503 if outcome.unknown else status_of_code(outcome.error_code),
    )  # fmt: skip


@router.post("/{order_id}/pay", status_code=202)
async def pay_order(
    order_id: RowId,
    state: State,
    _: Operator,
    body: PayIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send the customer the M-Pesa PIN prompt for this order, once."""
    if not state.settings.payments.enabled:
        raise InvalidInput("payments are disabled (payments.enabled: false)")
    phone = body.phone if body else None
    account = body.account if body else None
    request = {"order": order_id, "phone": phone, **({"account": account} if account else {})}
    held = idempotency.claim_for(f"order-pay:{order_id}", idempotency_key, request)
    outcome = await pay.pay_order(
        db=state.db, clients=state.require_runtime().clients, settings=state.settings,
        clock=state.clock, order_id=order_id, phone=phone, held=held, account=account,
    )  # fmt: skip
    return pay_answer(outcome)
