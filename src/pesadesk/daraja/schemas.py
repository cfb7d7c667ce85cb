"""Typed request and response bodies, with Daraja's own field names as aliases.

Python attributes are snake_case; `to_body()` gives the JSON Daraja wants, spelled the
way Daraja spells it (`CallBackURL`, `QueueTimeOutURL`, `RecieverIdentifierType`,
`Occassion` on B2C, `Occasion` elsewhere). Response models accept both the number and
the string form of codes, and both spellings of `OriginatorCoversationID`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from pesadesk.core.clock import EAT
from pesadesk.core.money import to_cents
from pesadesk.daraja.result_codes import StkStatus, code_str

CodeStr = Annotated[str, BeforeValidator(code_str)]


def _int_or_str(value: object) -> object:
    """`3599` or `"3599"` (older answers quote it)."""
    if isinstance(value, str):
        return int(value.strip())
    return value


def _digits(value: object) -> object:
    """Numbers Daraja sends as JSON numbers (MSISDN, shortcodes, amounts) kept as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    return value


DigitStr = Annotated[str, BeforeValidator(_digits)]

TransactionType = Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"]
B2CCommand = Literal["BusinessPayment", "SalaryPayment", "PromotionPayment"]


class DarajaBody(BaseModel):
    """Base for request bodies: snake_case in Python, Daraja's names on the wire."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    def to_body(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class DarajaAnswer(BaseModel):
    """Base for answers: unknown fields are kept, never an error."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)


# --- OAuth -----------------------------------------------------------------------------


class AccessToken(DarajaAnswer):
    access_token: str = Field(repr=False)
    expires_in: Annotated[int, BeforeValidator(_int_or_str)] = 3599


class ErrorEnvelope(DarajaAnswer):
    """`{"requestId", "errorCode", "errorMessage"}`: Daraja's synchronous error shape."""

    request_id: str | None = Field(default=None, alias="requestId")
    error_code: CodeStr | None = Field(default=None, alias="errorCode")
    error_message: str | None = Field(default=None, alias="errorMessage")


# --- STK Push and Query ----------------------------------------------------------------


class StkPushRequest(DarajaBody):
    business_short_code: str = Field(alias="BusinessShortCode")
    password: str = Field(alias="Password", repr=False)
    timestamp: str = Field(alias="Timestamp")
    transaction_type: TransactionType = Field(alias="TransactionType")
    amount: int = Field(alias="Amount")
    party_a: str = Field(alias="PartyA")
    party_b: str = Field(alias="PartyB")
    phone_number: str = Field(alias="PhoneNumber")
    callback_url: str = Field(alias="CallBackURL")
    account_reference: str = Field(alias="AccountReference")
    transaction_desc: str = Field(alias="TransactionDesc")


class StkPushResponse(DarajaAnswer):
    merchant_request_id: str = Field(alias="MerchantRequestID")
    checkout_request_id: str = Field(alias="CheckoutRequestID")
    response_code: CodeStr = Field(alias="ResponseCode")
    response_description: str = Field(default="", alias="ResponseDescription")
    customer_message: str = Field(default="", alias="CustomerMessage")


class StkQueryRequest(DarajaBody):
    business_short_code: str = Field(alias="BusinessShortCode")
    password: str = Field(alias="Password", repr=False)
    timestamp: str = Field(alias="Timestamp")
    checkout_request_id: str = Field(alias="CheckoutRequestID")


class StkQueryResponse(DarajaAnswer):
    response_code: CodeStr = Field(alias="ResponseCode")
    response_description: str = Field(default="", alias="ResponseDescription")
    merchant_request_id: str = Field(default="", alias="MerchantRequestID")
    checkout_request_id: str = Field(default="", alias="CheckoutRequestID")
    result_code: CodeStr = Field(alias="ResultCode")
    result_desc: str = Field(default="", alias="ResultDesc")


class StkQueryResult(BaseModel):
    """What STK Query says: `pending` while the customer has not answered."""

    model_config = ConfigDict(frozen=True)

    checkout_request_id: str
    pending: bool
    status: StkStatus | Literal["processing"]
    result_code: str | None = None
    result_desc: str = ""
    merchant_request_id: str | None = None


# --- C2B -------------------------------------------------------------------------------


class C2BRegisterRequest(DarajaBody):
    short_code: str = Field(alias="ShortCode")
    response_type: Literal["Completed", "Cancelled"] = Field(alias="ResponseType")
    confirmation_url: str = Field(alias="ConfirmationURL")
    validation_url: str = Field(alias="ValidationURL")


class C2BSimulateRequest(DarajaBody):
    short_code: str = Field(alias="ShortCode")
    command_id: TransactionType = Field(alias="CommandID")
    amount: int = Field(alias="Amount")
    msisdn: str = Field(alias="Msisdn")
    bill_ref_number: str | None = Field(alias="BillRefNumber")

    def to_body(self) -> dict[str, Any]:
        # BillRefNumber is sent as null for tills, not left out.
        body = super().to_body()
        body.setdefault("BillRefNumber", None)
        return body


class C2BResponse(DarajaAnswer):
    """Register and simulate answers (note Safaricom's `OriginatorCoversationID`)."""

    originator_conversation_id: str = Field(
        default="",
        validation_alias=AliasChoices("OriginatorCoversationID", "OriginatorConversationID"),
    )
    response_code: CodeStr = Field(alias="ResponseCode")
    response_description: str = Field(default="", alias="ResponseDescription")


# --- B2C, Transaction Status, Account Balance, Reversal --------------------------------


class B2CRequest(DarajaBody):
    originator_conversation_id: str = Field(alias="OriginatorConversationID")
    initiator_name: str = Field(alias="InitiatorName")
    security_credential: str = Field(alias="SecurityCredential", repr=False)
    command_id: B2CCommand = Field(alias="CommandID")
    amount: int = Field(alias="Amount")
    party_a: str = Field(alias="PartyA")
    party_b: str = Field(alias="PartyB")
    remarks: str = Field(alias="Remarks")
    queue_timeout_url: str = Field(alias="QueueTimeOutURL")
    result_url: str = Field(alias="ResultURL")
    occasion: str | None = Field(default=None, alias="Occassion")


class TransactionStatusRequest(DarajaBody):
    initiator: str = Field(alias="Initiator")
    security_credential: str = Field(alias="SecurityCredential", repr=False)
    command_id: Literal["TransactionStatusQuery"] = Field(
        default="TransactionStatusQuery", alias="CommandID"
    )
    transaction_id: str | None = Field(default=None, alias="TransactionID")
    original_conversation_id: str | None = Field(default=None, alias="OriginalConversationID")
    party_a: str = Field(alias="PartyA")
    identifier_type: str = Field(alias="IdentifierType")
    result_url: str = Field(alias="ResultURL")
    queue_timeout_url: str = Field(alias="QueueTimeOutURL")
    remarks: str = Field(alias="Remarks")
    occasion: str | None = Field(default=None, alias="Occasion")


class AccountBalanceRequest(DarajaBody):
    initiator: str = Field(alias="Initiator")
    security_credential: str = Field(alias="SecurityCredential", repr=False)
    command_id: Literal["AccountBalance"] = Field(default="AccountBalance", alias="CommandID")
    party_a: str = Field(alias="PartyA")
    identifier_type: str = Field(default="4", alias="IdentifierType")
    remarks: str = Field(alias="Remarks")
    queue_timeout_url: str = Field(alias="QueueTimeOutURL")
    result_url: str = Field(alias="ResultURL")


class ReversalRequest(DarajaBody):
    initiator: str = Field(alias="Initiator")
    security_credential: str = Field(alias="SecurityCredential", repr=False)
    command_id: Literal["TransactionReversal"] = Field(
        default="TransactionReversal", alias="CommandID"
    )
    transaction_id: str = Field(alias="TransactionID")
    amount: int = Field(alias="Amount")
    receiver_party: str = Field(alias="ReceiverParty")
    receiver_identifier_type: str = Field(default="11", alias="RecieverIdentifierType")
    result_url: str = Field(alias="ResultURL")
    queue_timeout_url: str = Field(alias="QueueTimeOutURL")
    remarks: str = Field(alias="Remarks")
    occasion: str | None = Field(default=None, alias="Occasion")


class AsyncAccepted(DarajaAnswer):
    """The synchronous answer of B2C, Transaction Status, Account Balance and Reversal."""

    conversation_id: str = Field(default="", alias="ConversationID")
    originator_conversation_id: str = Field(
        default="",
        validation_alias=AliasChoices("OriginatorConversationID", "OriginatorCoversationID"),
    )
    response_code: CodeStr = Field(alias="ResponseCode")
    response_description: str = Field(default="", alias="ResponseDescription")


# --- Pull Transactions -----------------------------------------------------------------


class PullRegisterRequest(DarajaBody):
    short_code: str = Field(alias="ShortCode")
    request_type: Literal["Pull"] = Field(default="Pull", alias="RequestType")
    nominated_number: str = Field(alias="NominatedNumber")
    callback_url: str = Field(alias="CallBackURL")


class PullRegisterResponse(DarajaAnswer):
    response_ref_id: str = Field(default="", alias="ResponseRefID")
    response_status: CodeStr = Field(
        default="", validation_alias=AliasChoices("ResponseStatus", "ResponseCode")
    )
    short_code: DigitStr = Field(default="", alias="ShortCode")
    response_description: str = Field(
        default="", validation_alias=AliasChoices("ResponseDescription", "ResponseMessage")
    )


class PullQueryRequest(DarajaBody):
    short_code: str = Field(alias="ShortCode")
    start_date: str = Field(alias="StartDate")
    end_date: str = Field(alias="EndDate")
    offset_value: str = Field(default="0", alias="OffSetValue")


class PullTransaction(DarajaAnswer):
    """One payment the shortcode received, as Pull Transactions lists it."""

    transaction_id: str = Field(alias="transactionId")
    trx_date: str = Field(alias="trxDate")
    msisdn: DigitStr = Field(default="", alias="msisdn")
    sender: str = Field(default="", alias="sender")
    transaction_type: str = Field(default="", alias="transactiontype")
    bill_reference: str = Field(default="", alias="billreference")
    amount: DigitStr = Field(alias="amount")
    organization_name: str = Field(default="", alias="organizationname")

    @property
    def amount_cents(self) -> int:
        return to_cents(self.amount)

    @property
    def received_at(self) -> datetime:
        return parse_pull_time(self.trx_date)


def parse_pull_time(value: str) -> datetime:
    """`2020-08-05T10:13:00Z` or `2020-08-05 10:13:00` (EAT when no offset is given), to UTC."""
    text = value.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EAT)
    return moment.astimezone(UTC)


def _flatten_pull(value: object) -> object:
    """`Response` is a list of lists of transactions (or a flat list, or absent)."""
    if value is None:
        return []
    if isinstance(value, list):
        flat: list[object] = []
        for item in value:
            if isinstance(item, list):
                flat.extend(item)
            elif item:
                flat.append(item)
        return flat
    return value


class PullQueryResponse(DarajaAnswer):
    response_ref_id: str = Field(default="", alias="ResponseRefID")
    response_code: CodeStr = Field(
        default="", validation_alias=AliasChoices("ResponseCode", "ResponseStatus")
    )
    response_message: str = Field(
        default="", validation_alias=AliasChoices("ResponseMessage", "ResponseDescription")
    )
    transactions: Annotated[list[PullTransaction], BeforeValidator(_flatten_pull)] = Field(
        default_factory=list, validation_alias=AliasChoices("Response", "Transactions")
    )


# --- Dynamic QR ------------------------------------------------------------------------

QrTrxCode = Literal["BG", "PB", "WA", "SM", "SB"]


class QrGenerateRequest(DarajaBody):
    merchant_name: str = Field(alias="MerchantName")
    ref_no: str = Field(alias="RefNo")
    amount: int = Field(alias="Amount")
    trx_code: QrTrxCode = Field(alias="TrxCode")
    cpi: str = Field(alias="CPI")
    size: str = Field(alias="Size")


class QrGenerateResponse(DarajaAnswer):
    """The answer as sent: a present `QRCode` is success, whatever `ResponseCode` says."""

    response_code: CodeStr = Field(default="", alias="ResponseCode")
    request_id: str = Field(default="", validation_alias=AliasChoices("RequestID", "requestId"))
    response_description: str = Field(default="", alias="ResponseDescription")
    qr_code: str | None = Field(default=None, alias="QRCode", repr=False)


class QrCode(BaseModel):
    """A Dynamic QR as a PNG image, ready to serve as `image/png`."""

    model_config = ConfigDict(frozen=True)

    png: bytes = Field(repr=False)
    request_id: str = ""
    response_code: str = ""
    response_description: str = ""
