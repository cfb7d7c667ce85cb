"""Refund requests from customers (CONTRACT §9): the JSON endpoint, the list people read,
and a form page that works without JavaScript, on a phone."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Paging, State, Viewer
from pesadesk.api.guard import client_address
from pesadesk.api.problems import MALFORMED_JSON, VALIDATION, answers, explain, problem_of
from pesadesk.api.schemas import RefundRequestIn
from pesadesk.api.schemas.moneyout import RefundRequestList, RefundRequestReceived
from pesadesk.b2c import customer_requests
from pesadesk.core.errors import (
    DatabaseBusy,
    InvalidAmount,
    InvalidInput,
    InvalidPhone,
    LossyAmount,
    PayloadTooLarge,
    PesadeskError,
    RateLimited,
    StorageUnavailable,
)
from pesadesk.core.money import positive_cents

router = APIRouter(tags=["refund requests"])
# No key, so nothing of the keyed operations' errors is added to these by `api.openapi`.
REQUEST_ERRORS = answers(
    explain(InvalidInput, "receipt: an M-Pesa receipt is 8-12 letters and digits (RKL51ZDR4F)"),
    InvalidPhone, InvalidAmount, LossyAmount, RateLimited, VALIDATION, MALFORMED_JSON,
    PayloadTooLarge, StorageUnavailable, DatabaseBusy,
)  # fmt: skip


async def _submit(request: Request, state: Any, body: RefundRequestIn) -> dict[str, Any]:
    asked = customer_requests.CustomerRequest(
        receipt=body.receipt, phone=body.phone, reason=body.reason,
        amount_cents=positive_cents(body.amount) if body.amount is not None else None,
    )  # fmt: skip
    address = client_address(request, state.settings.security)
    return await run_in_threadpool(
        lambda: customer_requests.submit(
            state.db, asked, settings=state.settings, clock=state.clock, remote_addr=address
        )
    )


@router.post(
    "/api/refund-requests", status_code=202, response_model=RefundRequestReceived,
    responses=REQUEST_ERRORS,
)  # fmt: skip
async def request_refund(body: RefundRequestIn, request: Request, state: State) -> JSONResponse:
    """A customer asks for their money back; no key. The same answer whether or not the
    receipt is known; 429 past `refund_requests.rate_limit_per_minute` per address."""
    return JSONResponse(await _submit(request, state, body), status_code=202)


@router.get("/api/refund-requests", response_model=RefundRequestList)
async def list_refund_requests(
    state: State, _: Viewer, paging: Paging, status: str | None = None
) -> dict[str, Any]:
    """Customers' requests, newest first: `matched` (a refund waits for approval),
    `refused` (the refund rules said no) or `unmatched` (for a person to read)."""
    page = await run_in_threadpool(
        lambda: customer_requests.list_requests(state.db, status=status, page=paging)
    )
    return page.body()


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ask for a refund</title><link rel="stylesheet" href="/static/desk.css"></head>
<body class="public"><main class="public-form"><h1>Ask for your money back</h1>{body}</main>
</body></html>"""
_FORM = """<p>Paid by M-Pesa and want the money back? Tell the business here.</p>{error}
<form method="post" action="/refund-request">
<label for="receipt">M-Pesa receipt</label>
<input id="receipt" name="receipt" required maxlength="40" autocomplete="off" value="{receipt}">
<label for="phone">Phone number that paid</label>
<input id="phone" name="phone" type="tel" required maxlength="20" value="{phone}">
<label for="amount">Amount (KES, leave empty for all of it)</label>
<input id="amount" name="amount" inputmode="decimal" maxlength="20" value="{amount}">
<label for="reason">Why?</label>
<textarea id="reason" name="reason" required maxlength="500">{reason}</textarea>
<button type="submit">Send request</button></form>"""


def _form(values: dict[str, str], error: str | None = None) -> str:
    shown = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    fields = {k: escape(values.get(k, "")) for k in ("receipt", "phone", "amount", "reason")}
    return _PAGE.format(body=_FORM.format(error=shown, **fields))


@router.get("/refund-request", response_class=HTMLResponse, include_in_schema=False)
async def refund_request_form() -> HTMLResponse:
    return HTMLResponse(_form({}))


@router.post("/refund-request", response_class=HTMLResponse, include_in_schema=False)
async def refund_request_sent(
    request: Request, state: State,
    receipt: Annotated[str, Form(max_length=40)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:  # fmt: skip
    """The form, posted without JavaScript: the same request as the JSON endpoint."""
    values = {"receipt": receipt, "phone": phone, "amount": amount, "reason": reason}
    try:
        body = RefundRequestIn(
            receipt=receipt or "-", phone=phone or "-", reason=reason or "-",
            amount=Decimal(amount) if amount.strip() else None,
        )  # fmt: skip
        answer = await _submit(request, state, body)
    except PesadeskError as exc:
        status = problem_of(exc).status_code
        return HTMLResponse(_form(values, exc.message), status_code=status)
    except ArithmeticError:
        return HTMLResponse(_form(values, "amount: write it as a number"), status_code=422)
    done = (
        f'<p role="status">{escape(answer["message"])}</p>'
        f"<p>Your request number: <strong>{escape(answer['request_id'])}</strong></p>"
    )
    return HTMLResponse(_PAGE.format(body=done), status_code=202)
