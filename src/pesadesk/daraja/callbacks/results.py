"""The `Result` envelope of the asynchronous org APIs, and what each API puts in it.

B2C, Transaction Status, Account Balance and Reversal all answer at the ResultURL with
`{"Result": {...}}`; parameters are looked up by `Key`, spelling variants accepted
(`OriginatorCoversationID`, spaced keys, `ReferenceItem` as an object or a list).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pesadesk.daraja.callbacks.common import (
    as_text,
    cents_of,
    mapping,
    normalise_key,
    opt_b2c_time,
    opt_cents,
    opt_daraja_time,
    opt_text,
    pairs,
)
from pesadesk.daraja.errors import CallbackError
from pesadesk.daraja.result_codes import code_str

__all__ = [
    "AccountBalance",
    "AccountBalanceResult",
    "B2CResult",
    "B2CTimeout",
    "DarajaResult",
    "ReversalResult",
    "TransactionStatusResult",
    "parse_account_balance_result",
    "parse_account_balances",
    "parse_b2c_result",
    "parse_b2c_timeout",
    "parse_result",
    "parse_reversal_result",
    "parse_transaction_status_result",
]


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
    outer = mapping(payload, "callback")
    inner = mapping(outer.get("Result", outer), "Result")
    data = {normalise_key(str(k)): v for k, v in inner.items()}
    if "ResultCode" not in data:
        raise CallbackError("Result.ResultCode is missing")
    params_block = data.get("ResultParameters")
    params = (
        pairs(params_block.get("ResultParameter"), "Key")
        if isinstance(params_block, Mapping)
        else {}
    )
    ref_block = data.get("ReferenceData")
    refs = pairs(ref_block.get("ReferenceItem"), "Key") if isinstance(ref_block, Mapping) else {}
    return DarajaResult(
        result_type=code_str(data.get("ResultType")),
        result_code=code_str(data.get("ResultCode")),
        result_desc=as_text(data.get("ResultDesc")),
        originator_conversation_id=as_text(data.get("OriginatorConversationID")),
        conversation_id=as_text(data.get("ConversationID")),
        transaction_id=as_text(data.get("TransactionID")),
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
    public_name = opt_text(p.get("ReceiverPartyPublicName"))
    phone = None
    if public_name:
        head = public_name.split(" - ", 1)[0].strip()
        if head.isdigit():
            phone = head
    registered = opt_text(p.get("B2CRecipientIsRegisteredCustomer"))
    receipt = opt_text(p.get("TransactionReceipt"))
    if receipt is None and result.succeeded and result.transaction_id:
        receipt = result.transaction_id
    return B2CResult(
        result=result,
        amount_cents=opt_cents(p.get("TransactionAmount"), "TransactionAmount"),
        receipt=receipt,
        receiver_party_public_name=public_name,
        receiver_phone=phone,
        completed_at=opt_b2c_time(p.get("TransactionCompletedDateTime")),
        utility_available_cents=opt_cents(
            p.get("B2CUtilityAccountAvailableFunds"), "B2CUtilityAccountAvailableFunds"
        ),
        working_available_cents=opt_cents(
            p.get("B2CWorkingAccountAvailableFunds"), "B2CWorkingAccountAvailableFunds"
        ),
        charges_paid_available_cents=opt_cents(
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
    outer = mapping(payload, "callback")
    inner = mapping(outer.get("Result", outer), "Result")
    data = {normalise_key(str(k)): v for k, v in inner.items()}
    originator = as_text(data.get("OriginatorConversationID"))
    conversation = as_text(data.get("ConversationID"))
    if not originator and not conversation:
        raise CallbackError("timeout carries neither OriginatorConversationID nor ConversationID")
    return B2CTimeout(
        originator_conversation_id=originator,
        conversation_id=conversation,
        result_code=code_str(data.get("ResultCode")),
        result_desc=as_text(data.get("ResultDesc")),
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
        transaction_status=opt_text(p.get("TransactionStatus")),
        receipt_no=opt_text(p.get("ReceiptNo")),
        amount_cents=opt_cents(p.get("Amount"), "Amount"),
        originator_conversation_id=opt_text(p.get("OriginatorConversationID")),
        conversation_id=opt_text(p.get("ConversationID")),
        debit_party_name=opt_text(p.get("DebitPartyName")),
        credit_party_name=opt_text(p.get("CreditPartyName")),
        initiated_at=opt_daraja_time(p.get("InitiatedTime")),
        finalised_at=opt_daraja_time(p.get("FinalisedTime")),
        reason_type=opt_text(p.get("ReasonType")),
        debit_party_charges=opt_text(p.get("DebitPartyCharges")),
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
                current_cents=cents_of(numbers[0], parts[0]),
                available_cents=cents_of(numbers[1], parts[0]),
                reserved_cents=cents_of(numbers[2], parts[0]),
                uncleared_cents=cents_of(numbers[3], parts[0]),
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
    raw = as_text(result.parameters.get("AccountBalance"))
    return AccountBalanceResult(
        result=result,
        accounts=parse_account_balances(raw) if raw else [],
        completed_at=opt_daraja_time(result.parameters.get("BOCompletedTime")),
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
        original_transaction_id=opt_text(p.get("OriginalTransactionID")),
        amount_cents=opt_cents(p.get("Amount"), "Amount"),
        completed_at=opt_daraja_time(p.get("TransCompletedTime")),
    )
