"""Parsers for what Daraja POSTs to us: pure functions from decoded JSON to typed records.

They never touch a database or a web framework, so the webhook route can store the raw
body first and parse after (DESIGN "store first, then think"). Rules they follow:

- metadata and result parameters are looked up by `Name`/`Key`, never by position, and
  an item without `Value` (STK's `Balance`) is simply None;
- codes are compared as strings (`0` and `"0"` are the same; `SFC_IC0003` is a code);
- amounts arrive as strings (`"5.00"`) or numbers (`1.00`) and become integer cents;
- spelling variants are accepted: `OriginatorCoversationID`, spaced keys
  (`Originator Conversation ID`), `ReferenceItem` as an object or a list.
"""

from __future__ import annotations

from pesadesk.daraja.callbacks.c2b import (
    C2BPayment,
    MsisdnKind,
    classify_msisdn,
    parse_c2b_payment,
)
from pesadesk.daraja.callbacks.common import normalise_key
from pesadesk.daraja.callbacks.results import (
    AccountBalance,
    AccountBalanceResult,
    B2CResult,
    B2CTimeout,
    DarajaResult,
    ReversalResult,
    TransactionStatusResult,
    parse_account_balance_result,
    parse_account_balances,
    parse_b2c_result,
    parse_b2c_timeout,
    parse_result,
    parse_reversal_result,
    parse_transaction_status_result,
)
from pesadesk.daraja.callbacks.stk import StkCallback, parse_stk_callback

__all__ = [
    "AccountBalance",
    "AccountBalanceResult",
    "B2CResult",
    "B2CTimeout",
    "C2BPayment",
    "DarajaResult",
    "MsisdnKind",
    "ReversalResult",
    "StkCallback",
    "TransactionStatusResult",
    "classify_msisdn",
    "normalise_key",
    "parse_account_balance_result",
    "parse_account_balances",
    "parse_b2c_result",
    "parse_b2c_timeout",
    "parse_c2b_payment",
    "parse_result",
    "parse_reversal_result",
    "parse_stk_callback",
    "parse_transaction_status_result",
]
