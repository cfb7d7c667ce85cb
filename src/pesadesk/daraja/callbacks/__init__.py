"""Parsers for what Daraja POSTs to us: pure functions from decoded JSON to typed records.

They never touch a database or a web framework, so the webhook route can store the raw
body first and parse after (DESIGN "store first, then think"). Rules they follow:

- metadata and result parameters are looked up by `Name`/`Key`, never by position, and
  an item without `Value` (STK's `Balance`) is simply None;
- codes are compared as strings (`0` and `"0"` are the same; `SFC_IC0003` is a code);
- amounts arrive as strings (`"5.00"`) or numbers (`1.00`) and become integer cents;
- a C2B payment has one reader (`parse_c2b_payment`, `parse_pull_transaction`), strict
  on everything that decides where money goes (see `pesadesk.daraja.callbacks.c2b`);
- spelling variants are accepted: `OriginatorCoversationID`, spaced keys
  (`Originator Conversation ID`), `ReferenceItem` as an object or a list.
"""

from __future__ import annotations

from pesadesk.daraja.callbacks.c2b import (
    MAX_C2B_CENTS,
    C2BNotice,
    C2BPayment,
    MsisdnKind,
    classify_msisdn,
    parse_c2b_payment,
    parse_pull_transaction,
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
    "MAX_C2B_CENTS",
    "AccountBalance",
    "AccountBalanceResult",
    "B2CResult",
    "B2CTimeout",
    "C2BNotice",
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
    "parse_pull_transaction",
    "parse_result",
    "parse_reversal_result",
    "parse_stk_callback",
    "parse_transaction_status_result",
]
