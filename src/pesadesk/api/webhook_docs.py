"""The Safaricom callbacks in the API docs, under the `safaricom` tag.

`WebhookLane` (api/webhooks.py) serves these paths in front of FastAPI, so the routes
here are never mounted on the app: they exist to be described, one per path of
`webhooks.ROUTES`, with Daraja's body, samples, and what pesadesk answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pesadesk.api import problems
from pesadesk.api.schemas import callbacks as cb
from pesadesk.api.webhooks import ROUTES
from pesadesk.core.errors import PayloadTooLarge, StorageUnavailable
from pesadesk.core.statuses import WebhookSource

TAG = "safaricom"
REF = "#/components/schemas/{model}"
STORED = (
    "The raw body is stored before it is read; once stored the answer is 200 whatever "
    "processing concludes (a payment that matches nothing is kept `unallocated`, a doubtful "
    "one is flagged for a person), and 503 when it could not be stored, so that Safaricom "
    "sends it again. Copies are recognised by M-Pesa's own ids and move money once."
)
TOKEN = {
    "name": "token", "in": "query", "required": False,
    "description": "`security.webhook_token`, when it is set: every URL pesadesk gives "
    "Daraja carries it; a callback without it is refused (403) and moves nothing.",
    "schema": {"type": "string"},
}  # fmt: skip


@dataclass(frozen=True)
class Callback:
    summary: str
    sent: str  # which Daraja request names this URL
    body: type[BaseModel]
    samples: dict[str, dict[str, Any]]
    answer: type[BaseModel] = cb.Acknowledged


CALLBACKS: dict[WebhookSource, Callback] = {
    WebhookSource.STK: Callback(
        "STK Push result", "the CallBackURL of an STK Push (`payments.mpesa.callback_url`)",
        cb.StkCallback, {"paid": cb.STK_SUCCESS, "cancelled (1032)": cb.STK_CANCELLED},
    ),
    WebhookSource.C2B_CONFIRMATION: Callback(
        "C2B confirmation", "the ConfirmationURL registered with `pesadesk c2b register`",
        cb.C2BNotice, {"masked MSISDN (v2)": cb.C2B_CONFIRMATION},
    ),
    WebhookSource.C2B_VALIDATION: Callback(
        "C2B validation", "the ValidationURL registered with `pesadesk c2b register`",
        cb.C2BNotice, {"hashed MSISDN (v1)": cb.C2B_VALIDATION}, cb.ValidationAnswer,
    ),
    WebhookSource.B2C_RESULT: Callback(
        "B2C, Transaction Status and Account Balance results",
        "the ResultURL of a B2C payment, a Transaction Status query or an Account Balance "
        "query (`payments.b2c.callback_url`)",
        cb.DarajaResultCallback,
        {"refund paid": cb.B2C_SUCCESS, "refund failed (2001)": cb.B2C_FAILURE,
         "account balance": cb.ACCOUNT_BALANCE},
    ),
    WebhookSource.B2C_TIMEOUT: Callback(
        "B2C queue timeout",
        "the QueueTimeOutURL of those requests (`payments.b2c.timeout_url`); the outcome is "
        "then asked with Transaction Status, the money never sent twice",
        cb.DarajaResultCallback, {"queue timeout": cb.B2C_TIMEOUT},
    ),
}  # fmt: skip

ANSWERS = problems.answers(
    problems.WEBHOOK_REFUSED,
    problems.explain(PayloadTooLarge, "refused: body over 2097152 bytes (first 65536 kept)"),
    problems.explain(StorageUnavailable, "could not store the callback; retry"),
)


async def _served_by_the_webhook_lane() -> None:
    """Never called: `WebhookLane` answers these paths before FastAPI routes."""


def _operation_id(path: str) -> str:
    return "safaricom" + path.removeprefix("/api").replace("/", "_")


def router() -> APIRouter:
    """A route per callback path, to describe (never to mount)."""
    described = APIRouter(tags=[TAG])
    for path, source in ROUTES.items():
        callback = CALLBACKS[source]
        seed = " (the seed's URL)" if path == "/api/webhooks/mpesa" else ""
        body = {
            "required": True,
            "content": {"application/json": {
                "schema": {"$ref": REF.format(model=callback.body.__name__)},
                "examples": {name: {"value": value} for name, value in callback.samples.items()},
            }},
        }  # fmt: skip
        described.add_api_route(
            path, _served_by_the_webhook_lane, methods=["POST"],
            summary=callback.summary + seed, operation_id=_operation_id(path),
            description=f"Safaricom posts here: give `https://<your host>{path}` as "
            f"{callback.sent}. {STORED}",
            response_model=callback.answer, responses=ANSWERS,
            openapi_extra={"requestBody": body, "parameters": [TOKEN], "security": []},
        )  # fmt: skip
    return described


def body_schemas() -> dict[str, Any]:
    """The callback bodies' schemas, for `components.schemas`."""
    models = {c.body for c in CALLBACKS.values()}
    _, top = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    return schemas
