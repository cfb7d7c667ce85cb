"""One parser per payload: raw bytes in, one typed message out, before any database work.

The parser is chosen by the callback's source and how it reached us (its origin): a C2B
confirmation from Safaricom, the same payment found by Pull Transactions, or a statement
row a person imported all become the same `C2BPayment` and meet the same handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pesadesk.core.errors import InvalidInput
from pesadesk.core.money import positive_cents
from pesadesk.core.statuses import WebhookSource
from pesadesk.daraja.callbacks import (
    C2BPayment,
    parse_account_balance_result,
    parse_b2c_result,
    parse_b2c_timeout,
    parse_c2b_payment,
    parse_pull_transaction,
    parse_result,
    parse_stk_callback,
    parse_transaction_status_result,
)
from pesadesk.pipeline.contract import Origin

Parser = Callable[[Any], Any]


def decode_json(raw: bytes) -> Any:
    """Strict JSON with exact decimals; a body that is not JSON is an `InvalidInput`."""
    try:
        return json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from None


def _validation_request(payload: Any) -> Any:
    """A validation is answered, never refused for its shape: its handler reads it."""
    return payload


def _b2c_result(payload: Any) -> Any:
    """The ResultURL receives three kinds of `Result`, told apart by their parameters."""
    result = parse_result(payload)
    if "AccountBalance" in result.parameters:
        return parse_account_balance_result(payload)
    if "TransactionStatus" in result.parameters or "Occasion" in result.reference_data:
        return parse_transaction_status_result(payload)
    return parse_b2c_result(payload)


def statement_row(payload: Any) -> C2BPayment:
    """A statement row pesadesk never heard of, as `import-missing` kept it."""
    if not isinstance(payload, dict) or not isinstance(payload.get("receipt"), str):
        raise InvalidInput("not a statement row")
    completed = payload.get("completed_at")
    name = str(payload.get("other_party") or "").split(" - ")[-1].strip()
    return C2BPayment(
        trans_id=payload["receipt"].strip().upper(),
        amount_cents=positive_cents(payload.get("amount")),
        bill_ref=str(payload.get("account_no") or "")[:100],
        msisdn_as_sent=None,
        msisdn_hash=None,
        payer_name=name[:200] or None,
        trans_time=datetime.fromisoformat(completed) if isinstance(completed, str) else None,
        shortcode=None,
    )


def pulled(payload: Any) -> C2BPayment:
    """A Pull Transactions item as kept: with the shortcode it was asked for (the item
    itself does not name it), or bare (kept before accounts had shortcodes)."""
    if isinstance(payload, dict) and "Item" in payload:
        shortcode = payload.get("ShortCode")
        return parse_pull_transaction(payload["Item"], shortcode=str(shortcode or "") or None)
    return parse_pull_transaction(payload)


PARSERS: dict[tuple[WebhookSource, Origin], Parser] = {
    (WebhookSource.C2B_CONFIRMATION, Origin.CALLBACK): parse_c2b_payment,
    (WebhookSource.C2B_CONFIRMATION, Origin.PULL): pulled,
    (WebhookSource.C2B_CONFIRMATION, Origin.STATEMENT): statement_row,
    (WebhookSource.C2B_VALIDATION, Origin.CALLBACK): _validation_request,
    (WebhookSource.STK, Origin.CALLBACK): parse_stk_callback,
    (WebhookSource.B2C_RESULT, Origin.CALLBACK): _b2c_result,
    (WebhookSource.B2C_TIMEOUT, Origin.CALLBACK): parse_b2c_timeout,
}


def parse(source: WebhookSource, origin: Origin, raw: bytes) -> Any:
    """The typed message in `raw`; raises `InvalidInput` (or `CallbackError`) with the
    reason when it is not one."""
    parser = PARSERS.get((source, origin))
    if parser is None:
        raise InvalidInput(f"no parser for {source} messages from {origin}")
    return parser(decode_json(raw))
