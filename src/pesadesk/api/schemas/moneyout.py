"""Answers about money going out: refunds, payouts, their approval, customers' refund
requests and the B2C balance."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from pesadesk.api.schemas.common import Answer, Kes, KesOrNone, Page, Phone, Time, TimeOrNone

RefundId = Annotated[str, Field(description="`RF-YYYYMMDD-NNNN`", examples=["RF-20260206-0001"])]
RefundStatus = Literal["pending_approval", "processing", "completed", "failed", "rejected"]


class Refund(Answer):
    """A refund of a payment, or a payout to a phone, over B2C."""

    refund_id: RefundId
    kind: Literal["refund", "payout"]
    account: str | None = Field(description="Whose B2C pays it out", examples=["default"])
    payment_id: str | None = Field(
        description="The payment refunded; null for a payout", examples=["PAY-C2B-RKL51ZDR4F"]
    )
    phone: Phone
    amount: Kes
    command_id: str = Field(examples=["BusinessPayment"])
    reason: str | None = Field(examples=["Out of stock"])
    status: RefundStatus
    requested_by: str = Field(description="The name of the key that asked", examples=["till-1"])
    requested_owner: str = Field(
        description="The person who asked; a different one must approve",
        examples=["Achieng Otieno"],
    )
    decided_by: str | None = Field(
        description="Who approved or rejected it", examples=["Achieng Otieno"]
    )
    originator_conversation_id: str = Field(examples=["pesadesk-RF-20260206-0001-9f2c41ab"])
    conversation_id: str | None = Field(examples=["AG_20260206_2010364430d9bbdaf872"])
    receipt: str | None = Field(description="B2C's receipt once paid", examples=["SG632NMUAB"])
    result_code: str | None = Field(examples=["0"])
    result_desc: str | None = Field(examples=["The service request is processed successfully."])
    created_at: TimeOrNone
    updated_at: TimeOrNone


class RefundList(Page[Refund]):
    """Refunds and payouts, newest first."""


class RefundSent(Answer):
    """The B2C request went to Daraja; B2C's result settles it a moment later."""

    success: Literal[True]
    refund_id: RefundId
    status: RefundStatus = Field(examples=["processing"])
    conversation_id: str | None = Field(
        description="Daraja's ConversationID; null while Daraja's answer is unknown",
        examples=["AG_20260206_2010364430d9bbdaf872"],
    )
    message: str = Field(examples=["Refund of KES 500.00 initiated to 254722000000"])


class RefundPending(Answer):
    """Above `refunds.approval_threshold`: a second person must approve it."""

    success: Literal[True]
    refund_id: RefundId
    status: Literal["pending_approval"]
    message: str = Field(examples=["KES 20,000.00 needs a second admin's approval"])


class RefundRejected(Refund):
    """The refund as it now stands (`rejected`); its amount can be refunded again."""

    success: Literal[True]


class Balance(Answer):
    """What the B2C utility account can pay out, as Daraja last said."""

    account: str = Field(examples=["Utility Account"])
    available: KesOrNone = Field(examples=[228037.0])
    current: KesOrNone = Field(default=None, examples=[228037.0])
    known: bool = Field(description="False until Daraja has told a balance")
    source: str | None = Field(default=None, description="What told it (a balance or a B2C result)")
    observed_at: TimeOrNone


class BalanceRequested(Answer):
    """Asked: Daraja's answer arrives at the B2C ResultURL a moment later."""

    requested: Literal[True]


class RefundRequest(Answer):
    """A customer's request: `matched` (a refund waits for approval), `refused` (the
    refund rules said no; `note` says why) or `unmatched` (for a person to read)."""

    request_id: str = Field(description="`RR-YYYYMMDD-NNNN`", examples=["RR-20260206-0001"])
    receipt: str = Field(examples=["RKL51ZDR4F"])
    phone: str = Field(examples=["254722000000"])
    amount: KesOrNone = Field(description="null: all of it")
    reason: str = Field(examples=["Paid twice for the same order"])
    status: Literal["matched", "refused", "unmatched"]
    note: str | None = Field(examples=[None])
    refund_id: str | None = Field(examples=["RF-20260206-0002"])
    created_at: Time


class RefundRequestList(Page[RefundRequest]):
    """Customers' refund requests, newest first."""


class RefundRequestReceived(Answer):
    """The same answer whether or not the receipt is known."""

    request_id: str = Field(examples=["RR-20260206-0001"])
    message: str = Field(
        examples=[
            "Thank you. If this M-Pesa payment is yours, the business will look at your "
            "request, and M-Pesa will tell you when any money is sent back."
        ]
    )
