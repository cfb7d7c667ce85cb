"""Money out: refunds, payouts, their approval, the B2C balance and the audit trail."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, AppState, Operator, State, Viewer
from pesadesk.api.pagination import newest_first
from pesadesk.api.ratelimit import RateLimiter
from pesadesk.api.schemas import Body
from pesadesk.b2c import balance, refunds
from pesadesk.core.money import format_kes, positive_cents
from pesadesk.db.models import AuditEntry, Refund
from pesadesk.jobs.runtime import request_balance
from pesadesk.shared import audit, idempotency
from pesadesk.shared.apikeys import Principal

router = APIRouter(tags=["refunds"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


class RefundIn(Body):
    amount: Decimal | None = None
    reason: str | None = Field(default=None, max_length=300)
    command_id: str | None = Field(default=None, max_length=30)


class PayoutIn(Body):
    phone: str = Field(min_length=1, max_length=20)
    amount: Decimal
    command_id: str | None = Field(default=None, max_length=30)
    remarks: str | None = Field(default=None, max_length=100)


def _limiter(request: Request, state: AppState) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "refund_limiter", None)
    if limiter is None:
        limiter = RateLimiter(state.settings.refunds.rate_limit_per_minute)
        request.app.state.refund_limiter = limiter
    return limiter


def _answer(refund: Refund) -> tuple[int, dict[str, Any]]:
    """The seed's answers: 200 while processing, 202 while waiting for approval."""
    if refund.status == refunds.PENDING_APPROVAL:
        message = f"{format_kes(refund.amount_cents)} needs a second admin's approval"
        return 202, {
            "success": True,
            "refund_id": refund.refund_id,
            "status": refund.status,
            "message": message,
        }
    if refund.status == refunds.FAILED:
        return 503, {
            "success": False,
            "refund_id": refund.refund_id,
            "status": refund.status,
            "error": refund.result_desc or "B2C request failed",
            "code": "b2c_failed",
        }
    verb = "Refund" if refund.kind == "refund" else "Payout"
    return 200, {
        "success": True,
        "refund_id": refund.refund_id,
        "status": refund.status,
        "conversation_id": refund.conversation_id,
        "message": f"{verb} of {format_kes(refund.amount_cents)} initiated to {refund.phone}",
    }


async def _open_and_send(
    state: AppState, who: Principal, scope: str, digest: str, key: str | None, create: Any
) -> JSONResponse:
    """Claim the Idempotency-Key and create the refund in one transaction, then send it."""

    def open_refund() -> idempotency.Replay | int:
        with state.db.write() as session:
            if key:
                replay = idempotency.claim(
                    session, scope=scope, key=key, digest=digest, now=state.clock.now()
                )
                if replay is not None:
                    return replay
            refund: Refund = create(session)
            return refund.id

    opened = await run_in_threadpool(open_refund)
    if isinstance(opened, idempotency.Replay):
        return JSONResponse(opened.body, status_code=opened.status_code)
    sent: Refund | None = None
    try:
        sent = await _send_if_ready(state, opened)
    finally:
        # Whatever happened while sending, the key gets the refund's answer as it stands,
        # so a retry with the same key replays it instead of hearing "in progress" forever.
        if key:
            await run_in_threadpool(_remember, state, scope, key, sent, opened)
    assert sent is not None
    status, body = _answer(sent)
    return JSONResponse(body, status_code=status)


def _remember(state: AppState, scope: str, key: str, sent: Refund | None, refund_pk: int) -> None:
    status, body = _answer(sent or _load(state, refund_pk))
    with state.db.write() as session:
        idempotency.complete(session, scope=scope, key=key, status_code=status, body=body)


def _load(state: AppState, refund_pk: int) -> Refund:
    with state.db.read() as session:
        found = session.get(Refund, refund_pk)
        assert found is not None
        return found


async def _send_if_ready(state: AppState, refund_pk: int) -> Refund:
    refund = await run_in_threadpool(_load, state, refund_pk)
    runtime = state.require_runtime()
    if refund.status != refunds.PROCESSING or runtime.b2c is None:
        return refund
    return await refunds.send(
        db=state.db, daraja=runtime.b2c, settings=state.settings, clock=state.clock,
        refund_pk=refund_pk,
    )  # fmt: skip


@router.post("/api/payments/{payment_id}/refund")
async def refund_payment(
    payment_id: str,
    request: Request,
    state: State,
    who: Operator,
    idempotency_key: IdempotencyKey = None,
    body: RefundIn | None = None,
) -> JSONResponse:
    body = body or RefundIn()
    refunds.require_b2c(state.settings)
    _limiter(request, state).check(who)
    new = refunds.NewRefund(
        payment_id=payment_id,
        amount_cents=positive_cents(body.amount) if body.amount is not None else None,
        reason=body.reason,
        command_id=body.command_id,
    )
    digest = idempotency.request_hash(body.model_dump(mode="json"))

    def create(session: Any) -> Refund:
        return refunds.request_refund(
            session, new=new, who=who, settings=state.settings, clock=state.clock
        )

    return await _open_and_send(state, who, f"refund:{payment_id}", digest, idempotency_key, create)


@router.post("/api/payouts")
async def payout(
    body: PayoutIn,
    request: Request,
    state: State,
    who: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    refunds.require_b2c(state.settings)
    _limiter(request, state).check(who)
    new = refunds.NewPayout(body.phone, positive_cents(body.amount), body.command_id, body.remarks)
    digest = idempotency.request_hash(body.model_dump(mode="json"))

    def create(session: Any) -> Refund:
        return refunds.request_payout(
            session, new=new, who=who, settings=state.settings, clock=state.clock
        )

    return await _open_and_send(state, who, "payout", digest, idempotency_key, create)


@router.get("/api/refunds")
async def list_refunds(
    state: State,
    _: Viewer,
    status: str | None = None,
    payment_id: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    query = select(Refund)
    if status:
        query = query.where(Refund.status == status)
    if payment_id:
        query = query.where(Refund.payment_id == payment_id)
    return await newest_first(
        state.db, query, Refund.id, refunds.refund_view, limit=limit, cursor=cursor
    )


@router.get("/api/refunds/{refund_id}")
async def get_refund(refund_id: str, state: State, _: Viewer) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return refunds.refund_view(refunds.find_refund(session, refund_id))

    return await run_in_threadpool(work)


async def _decide(state: AppState, refund_id: str, who: Principal, approve: bool) -> JSONResponse:
    def work() -> int:
        with state.db.write() as session:
            return refunds.decide(
                session, refund_id=refund_id, approve=approve, who=who, clock=state.clock
            ).id

    refund = await _send_if_ready(state, await run_in_threadpool(work))
    if not approve:
        return JSONResponse({"success": True, **refunds.refund_view(refund)})
    status, body = _answer(refund)
    return JSONResponse(body, status_code=200 if status == 202 else status)


@router.post("/api/refunds/{refund_id}/approve")
async def approve(refund_id: str, state: State, who: Admin) -> JSONResponse:
    return await _decide(state, refund_id, who, approve=True)


@router.post("/api/refunds/{refund_id}/reject")
async def reject(refund_id: str, state: State, who: Admin) -> JSONResponse:
    return await _decide(state, refund_id, who, approve=False)


@router.get("/api/balance")
async def get_balance(state: State, _: Admin) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return balance.view(balance.latest(session))

    return await run_in_threadpool(work)


@router.post("/api/balance/refresh", status_code=202)
async def refresh_balance(state: State, _: Admin) -> dict[str, Any]:
    """Ask Daraja now; the answer arrives at the B2C ResultURL a moment later."""
    refunds.require_b2c(state.settings)
    runtime = state.require_runtime()
    assert runtime.b2c is not None
    await request_balance(runtime.b2c, state.settings)
    return {"requested": True}


@router.get("/api/audit")
async def list_audit(
    state: State, _: Admin, limit: int | None = None, cursor: str | None = None
) -> dict[str, Any]:
    return await newest_first(
        state.db, select(AuditEntry), AuditEntry.id, audit.entry_view, limit=limit, cursor=cursor
    )
