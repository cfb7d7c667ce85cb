"""The one place errors become HTTP answers: `{"error": "...", "code": "..."}`.

`STATUS` maps each error class to its status; an error takes the status of its nearest
class in the table, so a new error inherits a sensible one by subclassing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from pesadesk.api.schemas.common import Problem
from pesadesk.b2c.rules import B2CNotConfigured
from pesadesk.core import errors
from pesadesk.daraja import errors as daraja

log = structlog.get_logger(__name__)

STATUS: dict[type[Exception], int] = {
    errors.PesadeskError: 500,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidInput: 422,
    errors.BadCursor: 400,
    errors.NeedsReview: 409,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.PayloadTooLarge: 413,
    errors.RateLimited: 429,
    errors.StorageUnavailable: 503,
    B2CNotConfigured: 503,
    # Daraja: unavailable to us now is 503 (the contract has no 502); a request Daraja
    # refused, or that pesadesk knew it would refuse, is 422.
    daraja.DarajaError: 503,
    daraja.DarajaRequestInvalid: 422,
    daraja.DarajaRejected: 422,
    daraja.StkPushRefused: 422,
    daraja.DuplicateOriginatorConversationID: 409,
    daraja.TransactionNotFound: 404,
    daraja.CallbackError: 422,
}


def status_of(error: type[Exception]) -> int:
    for kind in error.__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def _codes() -> dict[str, int]:
    found: dict[str, int] = {}
    pending: list[type[Exception]] = [errors.PesadeskError]
    while pending:
        kind = pending.pop()
        code = getattr(kind, "code", None)
        if isinstance(code, str):
            found.setdefault(code, status_of(kind))
        pending.extend(kind.__subclasses__())
    return found


def status_of_code(code: str | None) -> int:
    """The status of an error known only by its code (a result stored under an
    Idempotency-Key); 503 for a code no class has."""
    return _codes().get(code or "", 503)


def problem(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


def problem_of(exc: errors.PesadeskError) -> JSONResponse:
    headers = None
    if isinstance(exc, errors.RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem(status_of(type(exc)), exc.message, exc.code, headers=headers)


def _describe(errors_seen: list[Any]) -> tuple[int, str, str]:
    if any(err.get("type") == "json_invalid" for err in errors_seen):
        return 400, "request body is not valid JSON", "malformed_json"
    first = errors_seen[0] if errors_seen else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = first.get("msg", "invalid request")
    return 422, f"{where}: {message}" if where else message, "validation_error"


def _unreadable(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """A JSON body that is not even text is malformed JSON, as a truncated one is."""
    kind = request.headers.get("content-type", "")
    if not kind or "json" in kind:
        return problem(400, "request body is not valid JSON", MALFORMED_JSON.code)
    return problem(400, f"request body could not be read: {exc.detail}", MALFORMED_BODY.code)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.PesadeskError)
    async def _pesadesk_error(_request: Request, exc: errors.PesadeskError) -> JSONResponse:
        return problem_of(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, code = _describe(list(exc.errors()))
        return problem(status, message, code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body FastAPI could not read (not UTF-8, bad multipart)
            return _unreadable(request, exc)
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        return problem(exc.status_code, str(exc.detail), code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=type(exc).__name__)
        return problem(500, "internal error", "internal_error")


# --- Documenting errors: `responses=` for routes, built from the same table -------------


@dataclass(frozen=True)
class Code:
    """One error an operation can answer: its status, code, what it means and a
    realistic message for the docs."""

    status: int
    code: str
    meaning: str
    example: str


# Errors known by their code alone: answered by FastAPI, a middleware or a route.
VALIDATION = Code(
    422, "validation_error", "a parameter or body field is missing or malformed",
    "amount: Input should be a valid decimal",
)  # fmt: skip
MALFORMED_JSON = Code(
    400, "malformed_json", "the body is not JSON", "request body is not valid JSON"
)
MALFORMED_BODY = Code(
    400, "malformed_body", "a form or multipart body could not be read",
    "request body could not be read: Invalid multipart data.",
)  # fmt: skip
NOT_READY = Code(503, "not_ready", "the database cannot be reached", "database unreachable")
WEBHOOK_REFUSED = Code(
    403, "webhook_refused", "wrong or missing `?token=`, or an address not allowed",
    "refused: missing or wrong webhook token",
)  # fmt: skip
B2C_FAILED = Code(
    503, "b2c_failed", "Daraja refused the B2C request; the refund is kept `failed`",
    "The initiator information is invalid.",
)  # fmt: skip

# A message as pesadesk would write it, by code (the class docstring otherwise).
EXAMPLES = {
    "unauthenticated": "unknown or revoked API key",
    "forbidden": "this needs the operator role; the key is viewer",
    "same_person": "Achieng Otieno asked for this refund; a different person must approve "
    "or reject it",
    "payload_too_large": "request body over 1048576 bytes",
    "rate_limited": "more than 10 refunds or payouts from this key a minute",
    "storage_unavailable": "database unavailable; try again shortly",
    "invalid_cursor": "cursor is not valid",
    "invalid_input": "limit must be at least 1",
    "invalid_phone": "not a Kenyan mobile number: '0123'",
    "invalid_amount": "amount must be greater than zero, got '0'",
    "lossy_amount": "M-Pesa takes whole shillings; KES 500.50 is not one",
    "customer_not_found": "no customer 'CUST-042'",
    "invoice_not_found": "no invoice 'INV-20260206-0042'",
    "sale_not_found": "no POS sale 'POS-20260206-0042'",
    "payment_not_found": "no payment 'PAY-C2B-RKL51ZDR4F'",
    "order_not_found": "no order 123",
    "refund_not_found": "no refund 'RF-20260206-0042'",
    "webhook_log_not_found": "no webhook log 1042",
    "api_key_not_found": "no active API key 7",
    "duplicate_customer": "customer CUST-001 already exists",
    "duplicate_phone": "another customer already has phone 254722000000",
    "already_allocated": "payment PAY-C2B-RKL51ZDR4F is completed, not unallocated",
    "invalid_transition": "an order cannot go from delivered to pending",
    "payment_in_progress": "order 123 already has a payment in progress",
    "order_not_payable": "order 123 is confirmed; only pending orders pay",
    "refund_not_allowed": "payment PAY-C2B-RKL51ZDR4F is already fully refunded (or pending)",
    "refund_amount_invalid": "KES 5.00 is under the minimum KES 10.00",
    "insufficient_funds": "the B2C utility account has KES 2,000.00 available "
    "(as of 2026-02-06 09:00 UTC); top it up first",
    "refund_not_pending": "refund RF-20260206-0001 is processing",
    "not_under_review": "payment PAY-C2B-RKL51ZDR4F is not waiting for a review",
    "sale_paid": "sale POS-20260206-0001 is paid; there is nothing to scan for",
    "unknown_account": "no collection account 'shop-2' (there are: default)",
    "idempotency_key_reused": "this Idempotency-Key was used with a different request",
    "daraja_stk_refused": "Daraja refused the STK Push: Invalid PhoneNumber",
    "daraja_unavailable": "Daraja did not answer; try again shortly",
    "daraja_request_invalid": "Daraja refused the request: Invalid Amount",
    "daraja_rejected": "Daraja rejected the request: The initiator information is invalid",
    "daraja_not_configured": "Daraja is not configured: payments.mpesa.consumer_key is empty",
    "daraja_auth_failed": "Daraja refused the consumer key and secret",
    "daraja_server_error": "Daraja answered 500: System is busy",
}

Documented = type[Exception] | Code
# What a call to Daraja can end in, when an operation makes one while it answers.
DARAJA_CALL = (
    daraja.DarajaRequestInvalid, daraja.DarajaRejected, daraja.DarajaConfigError,
    daraja.DarajaAuthError, daraja.DarajaServerError, daraja.DarajaUnavailable,
)  # fmt: skip
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again",
                    "schema": {"type": "integer", "examples": [30]}},
}  # fmt: skip


def code_of(kind: Documented) -> Code:
    """The documented form of an error class (or a `Code`, as it is)."""
    if isinstance(kind, Code):
        return kind
    doc = (kind.__doc__ or "").strip().splitlines()[0] if kind.__doc__ else ""
    meaning = doc.removeprefix("Raised when ").rstrip(".")
    code = str(getattr(kind, "code", "error"))
    return Code(status_of(kind), code, meaning, EXAMPLES.get(code, meaning))


def explain(kind: type[Exception], example: str) -> Code:
    """`kind` with the message this operation gives for it."""
    return replace(code_of(kind), example=example)


def _described(examples: dict[str, Any], retry_after: bool) -> dict[str, Any]:
    listed = "\n".join(f"- `{code}`: {e['summary']}" for code, e in examples.items())
    answer: dict[str, Any] = {
        "description": f"`{{error, code}}`, the code one of:\n\n{listed}",
        "content": {"application/json": {"examples": examples}},
    }
    if retry_after:
        answer["headers"] = RETRY_AFTER
    return answer


def _example(c: Code) -> dict[str, Any]:
    return {"summary": c.meaning, "value": {"error": c.example, "code": c.code}}


def response_of(codes: Iterable[Code]) -> dict[str, Any]:
    """An OpenAPI response for one status: one example per code, the codes listed."""
    listed = list(codes)
    examples = {c.code: _example(c) for c in listed}
    return _described(examples, any(c.status == 429 for c in listed))


def merge_codes(response: dict[str, Any], codes: Iterable[Code], schema: dict[str, Any]) -> None:
    """Add `codes` to a response of the document (keeping its schema, or giving it
    `schema`), its description listing every code it now has."""
    listed = list(codes)
    content = response.setdefault("content", {}).setdefault("application/json", {})
    content.setdefault("schema", schema)
    examples = dict(content.get("examples") or {})
    for c in listed:
        examples.setdefault(c.code, _example(c))
    retry_after = "Retry-After" in response.get("headers", {}) or any(
        c.status == 429 for c in listed
    )
    described = _described(examples, retry_after)
    response["description"] = described["description"]
    content["examples"] = examples
    if retry_after:
        response["headers"] = RETRY_AFTER


def _flatten(kinds: Iterable[Documented | Iterable[Documented]]) -> list[Code]:
    out: list[Code] = []
    for kind in kinds:
        if isinstance(kind, Code | type):
            out.append(code_of(kind))
        else:
            out.extend(_flatten(kind))
    return out


def answers(
    *kinds: Documented | Iterable[Documented], shape: type[BaseModel] = Problem
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the errors it can answer beyond those every operation
    shares (401, 403, 422, 503: added to the document by `api.openapi`), by status."""
    by_status: dict[int, list[Code]] = {}
    for c in _flatten(kinds):
        by_status.setdefault(c.status, []).append(c)
    return {
        status: {"model": shape, **response_of(codes)}
        for status, codes in sorted(by_status.items())
    }
