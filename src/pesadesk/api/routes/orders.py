from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pesadesk.accounts.registry import UnknownAccount
from pesadesk.api.deps import IdempotencyKey, Operator, Paging, RowId, State, Viewer
from pesadesk.api.problems import DARAJA_CALL, answers, explain, status_of_code
from pesadesk.api.schemas import OrderIn, OrderPatch, PayIn
from pesadesk.api.schemas.common import PayProblem
from pesadesk.api.schemas.payments import Order, OrderList, PayAccepted
from pesadesk.core.errors import (
    InvalidAmount,
    InvalidInput,
    InvalidPhone,
    InvalidTransition,
    LossyAmount,
)
from pesadesk.core.money import positive_cents, to_json_number
from pesadesk.daraja.errors import DarajaOutcomeUnknown, StkPushRefused
from pesadesk.shared import idempotency
from pesadesk.shared.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from pesadesk.stk import pay, service
from pesadesk.stk.orders import NewOrder, OrderNotFound
from pesadesk.stk.pay import OrderNotPayable, PaymentInProgress

router = APIRouter(prefix="/api/orders", tags=["orders"])
PAY_ERRORS = answers(
    OrderNotFound, OrderNotPayable, PaymentInProgress, InvalidPhone, UnknownAccount,
    explain(InvalidInput, "payments are disabled (payments.enabled: false)"),
    IdempotencyKeyReused, IdempotencyInProgress, StkPushRefused, DarajaOutcomeUnknown,
    DARAJA_CALL, shape=PayProblem,
)  # fmt: skip


@router.post(
    "", status_code=201, response_model=Order,
    responses=answers(
        InvalidPhone, InvalidAmount, LossyAmount,
        explain(InvalidInput, "delivery_location must not be empty"),
    ),
)  # fmt: skip
async def create_order(body: OrderIn, state: State, _: Operator) -> dict[str, Any]:
    """A `pending` order, paid by STK Push (`POST /api/orders/{order_id}/pay`)."""
    new = NewOrder(
        body.customer_phone, positive_cents(body.amount), body.delivery_location, body.items
    )
    return await run_in_threadpool(service.create_order, state.db, new=new, clock=state.clock)


@router.get("", response_model=OrderList)
async def list_orders(
    state: State, _: Viewer, paging: Paging, status: str | None = None
) -> dict[str, Any]:
    """Orders, newest first."""
    page = await run_in_threadpool(service.list_orders, state.db, status=status, page=paging)
    return page.body()


@router.get("/{order_id}", response_model=Order, responses=answers(OrderNotFound))
async def get_order(order_id: RowId, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(service.get_order, state.db, order_id)


@router.patch(
    "/{order_id}", response_model=Order,
    responses=answers(
        OrderNotFound, InvalidTransition,
        explain(InvalidInput, "status must be one of pending, confirmed, preparing, "
                "delivered, cancelled"),
    ),
)  # fmt: skip
async def patch_order(
    order_id: RowId, body: OrderPatch, state: State, _: Operator
) -> dict[str, Any]:
    """`pending` → `confirmed` (a completed payment sets it) → `preparing` → `delivered`;
    `cancelled` from any but `delivered`; other moves are 409."""
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


@router.post("/{order_id}/pay", status_code=202, response_model=PayAccepted, responses=PAY_ERRORS)
async def pay_order(
    order_id: RowId,
    state: State,
    _: Operator,
    body: PayIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send the customer the M-Pesa PIN prompt for this order, once. The payment
    `PAY-{order}-{unix}` stays `processing` until the STK callback (or STK Query) settles
    it. A refused or lost push answers with the `payment_id` it left and its `status`."""
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
