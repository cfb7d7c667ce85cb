"""The OpenAPI document: FastAPI's, from the routes and their models, completed with what
every operation shares so that routes need only name their own errors.

- Operations needing a key carry the bearer scheme with the role as its scope, and
  document 401 (and 403 above `viewer`) and the storage 503s.
- Every operation whose parameters or body can be malformed documents 422
  `validation_error` in the one `Problem` shape the API answers with, in place of
  FastAPI's `HTTPValidationError` (which the API never returns); JSON bodies add 400
  `malformed_json` and 413, other bodies 400 `malformed_body` and 413; lists add 400
  `invalid_cursor`.
- The Safaricom callbacks, served in front of FastAPI, are described under `safaricom`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from pesadesk import __version__
from pesadesk.api import problems, webhook_docs
from pesadesk.api.problems import Code, code_of, explain
from pesadesk.api.schemas.common import Problem
from pesadesk.core import errors

INTRO = """\
A self-hosted M-Pesa payments desk: customers, invoices, POS sales and orders; money in by
STK Push and paybill/till (C2B), placed on what it pays; refunds and payouts over B2C;
reconciliation against M-Pesa statements.

**Keys.** Every `/api/` operation except the Safaricom callbacks and
`POST /api/refund-requests` needs `Authorization: Bearer <API key>`. Roles: `viewer`
reads, `operator` also creates customers, invoices, sales and orders, starts payments and
asks for refunds, `admin` does everything (approvals, keys, payouts). The role an
operation needs is the scope of its `bearer` requirement.

**Errors** are `{"error": "one line for a person", "code": "machine_code"}` with a status
that fits (400, 401, 403, 404, 409, 413, 422, 429, 503); each operation lists its codes.

**Money** is a JSON number of shillings (KES) with at most 2 decimals (`500.0`).
**Phones** are accepted as `07XXXXXXXX`, `01XXXXXXXX`, `+2547…`, `2547…` or `7…` and
returned as `2547XXXXXXXX`. **Times** are ISO-8601 with offset, except a payment's
`created_at`, `updated_at` and `paid_at`: `YYYY-MM-DD HH:MM:SS` in East Africa Time.
Date filters `from`/`to` take `YYYY-MM-DD` (a whole EAT day, `to` inclusive) or a datetime.

**Lists** take `?limit=` (default 50, at most 500) and `?cursor=` and answer
`{"data": [...], "next_cursor": "..." | null}`, newest first.

**Idempotency.** `POST /api/orders/{order_id}/pay`, `POST /api/payments/{payment_id}/refund`
and `POST /api/payouts` take an `Idempotency-Key` header: the same key and body answer
the first result again and never move money twice.
"""

TAGS: list[dict[str, Any]] = [
    {"name": "customers", "description": "Who owes: balances and statements of account."},
    {"name": "invoices", "description": "`INV-YYYYMMDD-NNNN`; paid by C2B or placement."},
    {"name": "pos", "description": "Point-of-sale sales, their Dynamic QR."},
    {"name": "orders", "description": "Orders paid by STK Push (the PIN prompt)."},
    {"name": "payments", "description": "Money in: STK Push and paybill/till."},
    {
        "name": "refunds",
        "description": "Money out over B2C: refunds, payouts, approvals, the balance, "
        "the audit trail.",
    },
    {"name": "refund requests", "description": "Customers asking for their money back."},
    {"name": "reconciliation", "description": "M-Pesa statements matched with the desk."},
    {"name": "stats", "description": "The numbers, in total and per day."},
    {"name": "webhooks", "description": "The callbacks as received; re-running one."},
    {"name": "keys", "description": "API keys: who may do what."},
    {"name": "safaricom", "description": "What Safaricom posts to pesadesk (no key)."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics."},
]
VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
PROBLEM = {"$ref": "#/components/schemas/Problem"}
KEYED = (errors.Unauthenticated, errors.StorageUnavailable, errors.DatabaseBusy)
LIST = (errors.BadCursor, explain(errors.InvalidInput, "limit must be at least 1"))
JSON_BODY = (problems.MALFORMED_JSON, errors.PayloadTooLarge)


def install_openapi(app: FastAPI) -> None:
    """The app's `/openapi.json` (and so `/docs` and `/redoc`) is `document(app)`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    replace: Callable[[], dict[str, Any]] = openapi
    app.openapi = replace  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(
        title="pesadesk API", version=__version__, description=INTRO,
        routes=[*app.routes, *webhook_docs.router().routes], webhooks=app.webhooks.routes,
        tags=TAGS, license_info={"name": "MIT"},
        separate_input_output_schemas=app.separate_input_output_schemas,
    )  # fmt: skip
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(webhook_docs.body_schemas())
    schemas.setdefault("Problem", Problem.model_json_schema(ref_template=webhook_docs.REF))
    for item in [*spec["paths"].values(), *spec.get("webhooks", {}).values()]:
        for operation in item.values():
            complete(operation)
            describe_success(operation, schemas)
    name_operations(spec, app)
    for name in VALIDATION_SCHEMAS:  # FastAPI's 422 shape, which the API never answers
        if f'"#/components/schemas/{name}"' not in json.dumps(spec):
            schemas.pop(name, None)
    return spec


def role_of(operation: dict[str, Any]) -> str | None:
    """The role an operation's bearer requirement names, None when it needs no key."""
    for requirement in operation.get("security") or []:
        for roles in requirement.values():
            return str(roles[0]) if roles else "viewer"
    return None


def complete(operation: dict[str, Any]) -> None:
    """Add what every operation of its kind can answer (see the module docstring)."""
    if webhook_docs.TAG in operation.get("tags", []):
        return
    responses: dict[str, Any] = operation.setdefault("responses", {})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {})
    if validation.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    codes: list[Code] = []
    role = role_of(operation)
    if role is not None:
        codes += [code_of(kind) for kind in KEYED]
        if role != "viewer":
            codes.append(code_of(errors.Forbidden))
        operation["description"] = (
            operation.get("description", "") + f"\n\nNeeds a key with the `{role}` role."
        ).strip()
    body = operation.get("requestBody", {}).get("content", {})
    if "application/json" in body:
        codes += [code_of(kind) for kind in JSON_BODY]
    elif body:
        codes += [problems.MALFORMED_BODY, code_of(errors.PayloadTooLarge)]
    if body or any(_can_fail(p) for p in operation.get("parameters", [])):
        codes.append(problems.VALIDATION)
    if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
        codes += [code_of(kind) for kind in LIST]
    for status in sorted({c.status for c in codes}):
        response = responses.setdefault(str(status), {})
        problems.merge_codes(response, [c for c in codes if c.status == status], PROBLEM)


def name_operations(spec: dict[str, Any], app: FastAPI) -> None:
    """`operationId` is the route function's name (`create_customer`), what a generated
    client calls the method, unless two operations share a name."""
    # FastAPI 0.12x+ keeps included routers whole; `iter_route_contexts` walks them.
    walk: Callable[[list[Any]], Iterable[Any]] = getattr(routing, "iter_route_contexts", list)
    names = {
        (route.path_format, method.lower()): route.name
        for route in walk(app.routes)
        if isinstance(getattr(route, "original_route", route), APIRoute)
        for method in route.methods
    }
    taken = [names.get((p, m)) for p, item in spec["paths"].items() for m in item]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            name = names.get((path, method))
            if name is not None and taken.count(name) == 1:
                operation["operationId"] = name


def describe_success(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A success answer is described by its model's docstring, not "Successful Response"."""
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2") or response.get("description") != "Successful Response":
            continue
        ref = response.get("content", {}).get("application/json", {}).get("schema", {})
        name = str(ref.get("$ref", "")).rpartition("/")[2]
        text = schemas.get(name, {}).get("description", "")
        if text:
            response["description"] = " ".join(text.split("\n\n")[0].split())


def _can_fail(parameter: dict[str, Any]) -> bool:
    """A parameter some value of which FastAPI refuses (422): a number, a flag, a bound."""
    schema = parameter.get("schema", {})
    kinds = [schema, *schema.get("anyOf", [])]
    limits = {"maximum", "minimum", "maxLength", "minLength", "pattern", "enum"}
    if parameter.get("required") and parameter.get("in") != "path":
        return True
    return any(k.get("type") not in (None, "string", "null") or limits & set(k) for k in kinds)
