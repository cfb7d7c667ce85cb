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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pesadesk.core.clock import EAT, parse_daraja_timestamp
from pesadesk.core.errors import InvalidAmount, InvalidPhone
from pesadesk.core.money import to_cents
from pesadesk.core.phone import normalize_phone
from pesadesk.daraja.errors import CallbackError
from pesadesk.daraja.result_codes import StkStatus, code_str, stk_message, stk_status

__all__ = [
    "AccountBalance",
    "AccountBalanceResult",
    "B2CResult",
    "B2CTimeout",
    "C2BPayment",
    "DarajaResult",
    "ReversalResult",
    "StkCallback",
    "TransactionStatusResult",
    "classify_msisdn",
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

MsisdnKind = Literal["hashed", "masked", "plain", "empty", "unknown"]

_HASH = re.compile(r"[0-9a-fA-F]{64}")
_B2C_TIME = "%d.%m.%Y %H:%M:%S"


# --- small helpers ---------------------------------------------------------------------


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CallbackError(f"{what} is missing or not an object")
    return value


def _text(value: object) -> str:
    """A JSON scalar as text; numbers that are whole stay without `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _opt_text(value: object) -> str | None:
    text = _text(value)
    return text or None


def _cents(value: object, what: str) -> int:
    try:
        return to_cents(value)
    except InvalidAmount as exc:
        raise CallbackError(f"{what}: {exc.message}") from None


def _opt_cents(value: object, what: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _cents(value, what)


def _opt_daraja_time(value: object) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        return parse_daraja_timestamp(text)
    except ValueError:
        return None


def _opt_b2c_time(value: object) -> datetime | None:
    """`06.07.2024 22:48:52` (EAT) as aware UTC."""
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.strptime(text, _B2C_TIME)  # noqa: DTZ007 - EAT attached below
    except ValueError:
        return _opt_daraja_time(text)
    return moment.replace(tzinfo=EAT).astimezone(UTC)


def normalise_key(key: str) -> str:
    """`Originator Conversation ID` and `OriginatorCoversationID` -> `OriginatorConversationID`."""
    compact = key.replace(" ", "")
    if compact == "OriginatorCoversationID":
        return "OriginatorConversationID"
    return compact


def _pairs(value: object, key_field: str) -> dict[str, Any]:
    """`[{"Name": n, "Value": v}, ...]` (or a single object) as `{n: v}`; no Value -> None."""
    items: list[object]
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise CallbackError(f"expected a list of {key_field}/Value items")
    result: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, Mapping) or key_field not in item:
            continue
        result[normalise_key(str(item[key_field]))] = item.get("Value")
    return result


# --- STK -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StkCallback:
    """An STK Push result: `Body.stkCallback`."""

    merchant_request_id: str
    checkout_request_id: str
    result_code: str
    result_desc: str
    amount_cents: int | None = None
    receipt: str | None = None
    transaction_date: datetime | None = None
    phone: str | None = None
    balance_cents: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> StkStatus:
        return stk_status(self.result_code)

    @property
    def succeeded(self) -> bool:
        return self.result_code == "0"

    @property
    def message(self) -> str:
        return stk_message(self.result_code, self.result_desc)


def parse_stk_callback(payload: object) -> StkCallback:
    """`{"Body": {"stkCallback": {...}}}` to an `StkCallback`."""
    body = _mapping(_mapping(payload, "callback").get("Body"), "Body")
    cb = _mapping(body.get("stkCallback"), "Body.stkCallback")
    checkout = _text(cb.get("CheckoutRequestID"))
    if not checkout:
        raise CallbackError("Body.stkCallback.CheckoutRequestID is missing")
    if "ResultCode" not in cb:
        raise CallbackError("Body.stkCallback.ResultCode is missing")
    meta_block = cb.get("CallbackMetadata")
    metadata = _pairs(meta_block.get("Item"), "Name") if isinstance(meta_block, Mapping) else {}
    phone = _opt_text(metadata.get("PhoneNumber"))
    return StkCallback(
        merchant_request_id=_text(cb.get("MerchantRequestID")),
        checkout_request_id=checkout,
        result_code=code_str(cb.get("ResultCode")),
        result_desc=_text(cb.get("ResultDesc")),
        amount_cents=_opt_cents(metadata.get("Amount"), "Amount"),
        receipt=_opt_text(metadata.get("MpesaReceiptNumber")),
        transaction_date=_opt_daraja_time(metadata.get("TransactionDate")),
        phone=phone,
        balance_cents=_opt_cents(metadata.get("Balance"), "Balance"),
        metadata=metadata,
    )


# --- C2B -------------------------------------------------------------------------------


def classify_msisdn(raw: object) -> tuple[MsisdnKind, str | None, str | None]:
    """What a C2B MSISDN is: (kind, sha256 hash if hashed, normalised phone if plain).

    Since 2023 Daraja sends a lowercase hex SHA-256 of `2547XXXXXXXX` (v1) or a masked
    `2547 ***** 126` (v2); older payloads carry the number in clear.
    """
    text = _text(raw)
    if not text:
        return "empty", None, None
    if _HASH.fullmatch(text):
        return "hashed", text.lower(), None
    if "*" in text:
        return "masked", None, None
    try:
        return "plain", None, normalize_phone(text)
    except InvalidPhone:
        return "unknown", None, None


@dataclass(frozen=True)
class C2BPayment:
    """A C2B validation or confirmation: a customer paid the paybill or till."""

    transaction_type: str
    trans_id: str
    trans_time: datetime | None
    amount_raw: str
    amount_cents: int | None
    business_shortcode: str
    bill_ref_number: str
    invoice_number: str
    org_account_balance_cents: int | None
    third_party_trans_id: str
    msisdn: str
    msisdn_kind: MsisdnKind
    msisdn_hash: str | None
    phone: str | None
    first_name: str
    middle_name: str
    last_name: str

    @property
    def customer_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


def parse_c2b_payment(payload: object, *, require_amount: bool = True) -> C2BPayment:
    """A C2B validation/confirmation body to a `C2BPayment`.

    With `require_amount=False` (validation), a bad `TransAmount` gives `amount_cents`
    None so the caller can answer `C2B00013` instead of failing.
    """
    data = _mapping(payload, "C2B body")
    trans_id = _text(data.get("TransID"))
    if not trans_id:
        raise CallbackError("TransID is missing")
    amount_raw = _text(data.get("TransAmount"))
    try:
        amount_cents: int | None = to_cents(data.get("TransAmount"))
    except InvalidAmount as exc:
        if require_amount:
            raise CallbackError(f"TransAmount: {exc.message}") from None
        amount_cents = None
    kind, msisdn_hash, phone = classify_msisdn(data.get("MSISDN"))
    try:
        balance = _opt_cents(data.get("OrgAccountBalance"), "OrgAccountBalance")
    except CallbackError:
        balance = None
    return C2BPayment(
        transaction_type=_text(data.get("TransactionType")),
        trans_id=trans_id,
        trans_time=_opt_daraja_time(data.get("TransTime")),
        amount_raw=amount_raw,
        amount_cents=amount_cents,
        business_shortcode=_text(data.get("BusinessShortCode")),
        bill_ref_number="" if data.get("BillRefNumber") is None else str(data["BillRefNumber"]),
        invoice_number=_text(data.get("InvoiceNumber")),
        org_account_balance_cents=balance,
        third_party_trans_id=_text(data.get("ThirdPartyTransID")),
        msisdn=_text(data.get("MSISDN")),
        msisdn_kind=kind,
        msisdn_hash=msisdn_hash,
        phone=phone,
        first_name=_text(data.get("FirstName")),
        middle_name=_text(data.get("MiddleName")),
        last_name=_text(data.get("LastName")),
    )


# --- Result envelopes (B2C, Transaction Status, Account Balance, Reversal) --------------


@dataclass(frozen=True)
class DarajaResult:
    """The `Result` envelope every asynchronous org API answers with."""

    result_type: str
    result_code: str
    result_desc: str
    originator_conversation_id: str
    conversation_id: str
    transaction_id: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    reference_data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.result_code == "0"


def parse_result(payload: object) -> DarajaResult:
    """`{"Result": {...}}` (spelling variants included) to a `DarajaResult`."""
    outer = _mapping(payload, "callback")
    inner = _mapping(outer.get("Result", outer), "Result")
    data = {normalise_key(str(k)): v for k, v in inner.items()}
    if "ResultCode" not in data:
        raise CallbackError("Result.ResultCode is missing")
    params_block = data.get("ResultParameters")
    params = (
        _pairs(params_block.get("ResultParameter"), "Key")
        if isinstance(params_block, Mapping)
        else {}
    )
    ref_block = data.get("ReferenceData")
    refs = _pairs(ref_block.get("ReferenceItem"), "Key") if isinstance(ref_block, Mapping) else {}
    return DarajaResult(
        result_type=code_str(data.get("ResultType")),
        result_code=code_str(data.get("ResultCode")),
        result_desc=_text(data.get("ResultDesc")),
        originator_conversation_id=_text(data.get("OriginatorConversationID")),
        conversation_id=_text(data.get("ConversationID")),
        transaction_id=_text(data.get("TransactionID")),
        parameters=params,
        reference_data=refs,
    )


@dataclass(frozen=True)
class B2CResult:
    """A B2C result: did the money leave, how much, and to whom."""

    result: DarajaResult
    amount_cents: int | None
    receipt: str | None
    receiver_party_public_name: str | None
    receiver_phone: str | None
    completed_at: datetime | None
    utility_available_cents: int | None
    working_available_cents: int | None
    charges_paid_available_cents: int | None
    recipient_registered: bool | None

    @property
    def succeeded(self) -> bool:
        return self.result.succeeded

    @property
    def result_code(self) -> str:
        return self.result.result_code

    @property
    def originator_conversation_id(self) -> str:
        return self.result.originator_conversation_id

    @property
    def conversation_id(self) -> str:
        return self.result.conversation_id


def parse_b2c_result(payload: object) -> B2CResult:
    """A B2C ResultURL body to a `B2CResult` (failures have no ResultParameters)."""
    result = parse_result(payload)
    p = result.parameters
    public_name = _opt_text(p.get("ReceiverPartyPublicName"))
    phone = None
    if public_name:
        head = public_name.split(" - ", 1)[0].strip()
        if head.isdigit():
            phone = head
    registered = _opt_text(p.get("B2CRecipientIsRegisteredCustomer"))
    receipt = _opt_text(p.get("TransactionReceipt"))
    if receipt is None and result.succeeded and result.transaction_id:
        receipt = result.transaction_id
    return B2CResult(
        result=result,
        amount_cents=_opt_cents(p.get("TransactionAmount"), "TransactionAmount"),
        receipt=receipt,
        receiver_party_public_name=public_name,
        receiver_phone=phone,
        completed_at=_opt_b2c_time(p.get("TransactionCompletedDateTime")),
        utility_available_cents=_opt_cents(
            p.get("B2CUtilityAccountAvailableFunds"), "B2CUtilityAccountAvailableFunds"
        ),
        working_available_cents=_opt_cents(
            p.get("B2CWorkingAccountAvailableFunds"), "B2CWorkingAccountAvailableFunds"
        ),
        charges_paid_available_cents=_opt_cents(
            p.get("B2CChargesPaidAccountAvailableFunds"), "B2CChargesPaidAccountAvailableFunds"
        ),
        recipient_registered=None if registered is None else registered.upper() == "Y",
    )


@dataclass(frozen=True)
class B2CTimeout:
    """A queue timeout: the outcome is unknown, not failed; ask Transaction Status."""

    originator_conversation_id: str
    conversation_id: str
    result_code: str
    result_desc: str


def parse_b2c_timeout(payload: object) -> B2CTimeout:
    """The QueueTimeOutURL body (undocumented; a `Result` envelope or a flat object)."""
    outer = _mapping(payload, "callback")
    inner = _mapping(outer.get("Result", outer), "Result")
    data = {normalise_key(str(k)): v for k, v in inner.items()}
    originator = _text(data.get("OriginatorConversationID"))
    conversation = _text(data.get("ConversationID"))
    if not originator and not conversation:
        raise CallbackError("timeout carries neither OriginatorConversationID nor ConversationID")
    return B2CTimeout(
        originator_conversation_id=originator,
        conversation_id=conversation,
        result_code=code_str(data.get("ResultCode")),
        result_desc=_text(data.get("ResultDesc")),
    )


@dataclass(frozen=True)
class TransactionStatusResult:
    """What Transaction Status found out about one receipt or OriginatorConversationID."""

    result: DarajaResult
    transaction_status: str | None
    receipt_no: str | None
    amount_cents: int | None
    originator_conversation_id: str | None
    conversation_id: str | None
    debit_party_name: str | None
    credit_party_name: str | None
    initiated_at: datetime | None
    finalised_at: datetime | None
    reason_type: str | None
    debit_party_charges: str | None

    @property
    def completed(self) -> bool:
        """True when the transaction looked up went through."""
        return self.result.succeeded and (self.transaction_status or "").lower() == "completed"


def parse_transaction_status_result(payload: object) -> TransactionStatusResult:
    """A Transaction Status ResultURL body; spaced keys (`Conversation ID`) normalised."""
    result = parse_result(payload)
    p = result.parameters
    return TransactionStatusResult(
        result=result,
        transaction_status=_opt_text(p.get("TransactionStatus")),
        receipt_no=_opt_text(p.get("ReceiptNo")),
        amount_cents=_opt_cents(p.get("Amount"), "Amount"),
        originator_conversation_id=_opt_text(p.get("OriginatorConversationID")),
        conversation_id=_opt_text(p.get("ConversationID")),
        debit_party_name=_opt_text(p.get("DebitPartyName")),
        credit_party_name=_opt_text(p.get("CreditPartyName")),
        initiated_at=_opt_daraja_time(p.get("InitiatedTime")),
        finalised_at=_opt_daraja_time(p.get("FinalisedTime")),
        reason_type=_opt_text(p.get("ReasonType")),
        debit_party_charges=_opt_text(p.get("DebitPartyCharges")),
    )


@dataclass(frozen=True)
class AccountBalance:
    """One account of a shortcode, in cents: current = available + reserved (+ uncleared)."""

    name: str
    currency: str
    current_cents: int
    available_cents: int
    reserved_cents: int
    uncleared_cents: int


def parse_account_balances(text: str) -> list[AccountBalance]:
    """`Name|Currency|current|available|reserved|uncleared&...` to typed balances."""
    balances: list[AccountBalance] = []
    for chunk in text.split("&"):
        if not chunk.strip():
            continue
        parts = [p.strip() for p in chunk.split("|")]
        if len(parts) < 4:
            raise CallbackError(f"account balance entry has too few fields: {chunk!r}")
        numbers = [*parts[2:6], *(["0"] * (6 - len(parts)))]
        balances.append(
            AccountBalance(
                name=parts[0],
                currency=parts[1],
                current_cents=_cents(numbers[0], parts[0]),
                available_cents=_cents(numbers[1], parts[0]),
                reserved_cents=_cents(numbers[2], parts[0]),
                uncleared_cents=_cents(numbers[3], parts[0]),
            )
        )
    return balances


@dataclass(frozen=True)
class AccountBalanceResult:
    result: DarajaResult
    accounts: list[AccountBalance]
    completed_at: datetime | None

    def account(self, name: str) -> AccountBalance | None:
        """The account called `name` (`Utility Account`), ignoring case."""
        wanted = name.strip().lower()
        return next((a for a in self.accounts if a.name.lower() == wanted), None)


def parse_account_balance_result(payload: object) -> AccountBalanceResult:
    """An Account Balance ResultURL body with its `&`/`|` balance string parsed."""
    result = parse_result(payload)
    raw = _text(result.parameters.get("AccountBalance"))
    return AccountBalanceResult(
        result=result,
        accounts=parse_account_balances(raw) if raw else [],
        completed_at=_opt_daraja_time(result.parameters.get("BOCompletedTime")),
    )


@dataclass(frozen=True)
class ReversalResult:
    result: DarajaResult
    original_transaction_id: str | None
    amount_cents: int | None
    completed_at: datetime | None

    @property
    def succeeded(self) -> bool:
        return self.result.succeeded


def parse_reversal_result(payload: object) -> ReversalResult:
    """A Reversal ResultURL body (`R000001` already reversed, `R000002` unknown receipt)."""
    result = parse_result(payload)
    p = result.parameters
    return ReversalResult(
        result=result,
        original_transaction_id=_opt_text(p.get("OriginalTransactionID")),
        amount_cents=_opt_cents(p.get("Amount"), "Amount"),
        completed_at=_opt_daraja_time(p.get("TransCompletedTime")),
    )
