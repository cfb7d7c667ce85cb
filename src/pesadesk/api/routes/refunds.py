"""Money out: refunds, payouts, their approval, the B2C balance and the audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, AppState, IdempotencyKey, Operator, Paging, State, Viewer
from pesadesk.api.problems import B2C_FAILED, DARAJA_CALL, answers, explain
from pesadesk.api.schemas import PayoutIn, RefundIn
from pesadesk.api.schemas.admin import AuditList
from pesadesk.api.schemas.common import RefundProblem
from pesadesk.api.schemas.moneyout import (
    Balance,
    BalanceRequested,
    Refund,
    RefundList,
    RefundPending,
    RefundRejected,
    RefundSent,
)
from pesadesk.b2c import service
from pesadesk.b2c.checks import ask_balance
from pesadesk.b2c.requests import require_b2c
from pesadesk.b2c.rules import (
    FAILED,
    PENDING_APPROVAL,
    B2CNotConfigured,
    InsufficientFunds,
    NewPayout,
    NewRefund,
    RefundAmountInvalid,
    RefundNotAllowed,
    RefundNotFound,
    RefundNotPending,
    SamePerson,
)
from pesadesk.core.errors import (
    InvalidAmount,
    InvalidInput,
    InvalidPhone,
    LossyAmount,
    NotFound,
    RateLimited,
)
from pesadesk.core.money import format_kes, positive_cents
from pesadesk.payments.views import refund_view
from pesadesk.shared import audit, idempotency, ratelimit
from pesadesk.shared.apikeys import Principal
from pesadesk.shared.idempotency import IdempotencyInProgress, IdempotencyKeyReused

router = APIRouter(tags=["refunds"])


# What asking for money out can end in, before and after Daraja is asked.
MONEY_OUT = (
    RefundAmountInvalid, InvalidAmount, LossyAmount, InsufficientFunds, RateLimited,
    explain(InvalidInput, "command_id must be one of BusinessPayment, SalaryPayment, "
            "PromotionPayment"),
    IdempotencyKeyReused, IdempotencyInProgress, B2CNotConfigured, B2C_FAILED,
)  # fmt: skip
SENT_OR_PENDING: dict[int | str, dict[str, Any]] = {
    202: {"model": RefundPending, "description": "Above `refunds.approval_threshold`: it "
          "waits for a second person (`POST /api/refunds/{refund_id}/approve`)"},
}  # fmt: skip


def _desk(state: AppState) -> service.Desk:
    return service.Desk(state.db, state.require_runtime().clients, state.settings, state.clock)


async def _count_money_out(state: AppState, who: Principal) -> None:
    """Refunds and payouts per key and minute, counted across every process."""
    await run_in_threadpool(
        lambda: ratelimit.hit(
            state.db, key=f"money-out:{who.key_id}:{who.name}",
            per_minute=state.settings.refunds.rate_limit_per_minute, now=state.clock.now(),
            what="refunds or payouts from this key",
        )
    )  # fmt: skip


def refund_answer(answer: service.RefundAnswer) -> JSONResponse:
    """The seed's answers: 200 once sent, 202 while waiting for approval."""
    if answer.status == PENDING_APPROVAL:
        message = f"{format_kes(answer.amount_cents)} needs a second admin's approval"
        return JSONResponse(
            {"success": True, "refund_id": answer.refund_id, "status": answer.status,
             "message": message},
            status_code=202,
        )  # fmt: skip
    if answer.status == FAILED:
        return JSONResponse(
            {"success": False, "refund_id": answer.refund_id, "status": answer.status,
             "error": answer.result_desc or "B2C request failed", "code": "b2c_failed"},
            status_code=503,
        )  # fmt: skip
    verb = "Refund" if answer.kind == "refund" else "Payout"
    return JSONResponse(
        {"success": True, "refund_id": answer.refund_id, "status": answer.status,
         "conversation_id": answer.conversation_id,
         "message": f"{verb} of {format_kes(answer.amount_cents)} initiated to {answer.phone}"}
    )  # fmt: skip


@router.post(
    "/api/payments/{payment_id}/refund", response_model=RefundSent,
    responses={**SENT_OR_PENDING, **answers(
        explain(NotFound, "no payment 'PAY-C2B-RKL51ZDR4F'"), RefundNotAllowed, MONEY_OUT,
        shape=RefundProblem,
    )},
)  # fmt: skip
async def refund_payment(
    payment_id: str,
    state: State,
    who: Operator,
    idempotency_key: IdempotencyKey = None,
    body: RefundIn | None = None,
) -> JSONResponse:
    """Refund a payment in full or in part over B2C: 200 once sent (B2C's result settles
    it: `completed`, or `failed` with the amount released), 202 when it waits for
    approval. Refused when the payment is not completed, its order was delivered, or the
    amount is under `min_amount`, over `max_amount` or over what remains unrefunded."""
    body = body or RefundIn()
    require_b2c(state.settings)
    await _count_money_out(state, who)
    new = NewRefund(
        payment_id=payment_id,
        amount_cents=positive_cents(body.amount) if body.amount is not None else None,
        reason=body.reason,
        command_id=body.command_id,
    )
    held = idempotency.claim_for(
        f"refund:{payment_id}", idempotency_key, body.model_dump(mode="json")
    )
    answer = await service.refund_payment(_desk(state), new=new, who=who, held=held)
    return refund_answer(answer)


@router.post(
    "/api/payouts", response_model=RefundSent,
    responses={**SENT_OR_PENDING, **answers(InvalidPhone, MONEY_OUT, shape=RefundProblem)},
)  # fmt: skip
async def pay_out(
    body: PayoutIn,
    state: State,
    who: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send money to a phone (a reward, a compensation) over B2C."""
    require_b2c(state.settings)
    await _count_money_out(state, who)
    new = NewPayout(body.phone, positive_cents(body.amount), body.command_id, body.remarks)
    held = idempotency.claim_for("payout", idempotency_key, body.model_dump(mode="json"))
    answer = await service.pay_out(_desk(state), new=new, who=who, held=held)
    return refund_answer(answer)


@router.get("/api/refunds", response_model=RefundList)
async def list_refunds(
    state: State,
    _: Viewer,
    paging: Paging,
    status: str | None = None,
    payment_id: str | None = None,
) -> dict[str, Any]:
    """Refunds and payouts, newest first; `status`: `pending_approval`, `processing`,
    `completed`, `failed` or `rejected`."""
    page = await run_in_threadpool(
        service.list_refunds, state.db, status=status, payment_id=payment_id, page=paging
    )
    return page.body()


@router.get("/api/refunds/{refund_id}", response_model=Refund, responses=answers(RefundNotFound))
async def get_refund(refund_id: str, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(service.get_refund, state.db, refund_id)


async def _decide(state: AppState, refund_id: str, who: Principal, approve: bool) -> JSONResponse:
    refund = await service.decide(_desk(state), refund_id=refund_id, approve=approve, who=who)
    if not approve:
        return JSONResponse({"success": True, **refund_view(refund)})
    response = refund_answer(service.RefundAnswer.of(refund))
    if response.status_code == 202:
        response.status_code = 200
    return response


DECISION_ERRORS = (RefundNotFound, RefundNotPending, SamePerson)


@router.post(
    "/api/refunds/{refund_id}/approve", response_model=RefundSent | RefundPending,
    response_description="Sent (the refund is `processing` until B2C's result)",
    responses=answers(
        DECISION_ERRORS, InsufficientFunds,
        explain(RefundNotAllowed, "the order has been delivered since; reject this refund"),
        B2C_FAILED, shape=RefundProblem,
    ),
)  # fmt: skip
async def approve_refund(refund_id: str, state: State, who: Admin) -> JSONResponse:
    """A different person approves a refund waiting for approval; it is then sent."""
    return await _decide(state, refund_id, who, approve=True)


@router.post(
    "/api/refunds/{refund_id}/reject", response_model=RefundRejected,
    responses=answers(DECISION_ERRORS),
)  # fmt: skip
async def reject_refund(refund_id: str, state: State, who: Admin) -> JSONResponse:
    """A different person rejects it; its amount can be refunded again."""
    return await _decide(state, refund_id, who, approve=False)


@router.get("/api/balance", response_model=Balance)
async def get_balance(state: State, _: Admin) -> dict[str, Any]:
    """What the B2C utility account can pay out, as Daraja last said (an Account Balance
    result or any B2C result); `known: false` until it has."""
    return await run_in_threadpool(service.known_balance, state.db)


@router.post(
    "/api/balance/refresh", status_code=202, response_model=BalanceRequested,
    responses=answers(B2CNotConfigured, DARAJA_CALL),
)  # fmt: skip
async def refresh_balance(state: State, _: Admin) -> dict[str, Any]:
    """Ask Daraja now; the answer arrives at the B2C ResultURL a moment later."""
    require_b2c(state.settings)
    b2c = state.require_runtime().b2c
    assert b2c is not None
    await ask_balance(b2c, state.settings)
    return {"requested": True}


@router.get("/api/audit", response_model=AuditList)
async def list_audit(state: State, _: Admin, paging: Paging) -> dict[str, Any]:
    """The audit trail, newest first: keys made and revoked, refunds asked, approved,
    sent and settled, reviews closed; each entry chained to the one before by hash."""
    page = await run_in_threadpool(audit.list_entries, state.db, paging)
    return page.body()
