"""What Safaricom posts to pesadesk, for the API docs: the callback bodies with Daraja's
own field names, samples of each (Daraja's published ones, as in tests/fixtures/daraja),
and what pesadesk answers. pesadesk stores any body as it comes (CONTRACT §5), so these
models describe what Daraja sends; they are never used to refuse a callback."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Daraja(BaseModel):
    """Daraja's names on the wire; fields Daraja adds later are welcome."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class StkItem(Daraja):
    name: str = Field(alias="Name", examples=["MpesaReceiptNumber"])
    value: float | str | None = Field(
        default=None, alias="Value", description="Missing or valueless for some items"
    )


class StkMetadata(Daraja):
    item: list[StkItem] = Field(
        alias="Item",
        description="Amount, MpesaReceiptNumber, TransactionDate, PhoneNumber (read by name)",
    )


class StkResult(Daraja):
    merchant_request_id: str = Field(alias="MerchantRequestID")
    checkout_request_id: str = Field(
        alias="CheckoutRequestID", examples=["ws_CO_15012024103045123708374149"]
    )
    result_code: int = Field(
        alias="ResultCode", description="0 paid; 1032 cancelled; 1037, 1019 timeout; else failed"
    )
    result_desc: str = Field(alias="ResultDesc")
    callback_metadata: StkMetadata | None = Field(
        default=None, alias="CallbackMetadata", description="Only on success"
    )


class StkCallbackBody(Daraja):
    stk_callback: StkResult = Field(alias="stkCallback")


class StkCallback(Daraja):
    """An STK Push result (the CallBackURL of the push)."""

    body: StkCallbackBody = Field(alias="Body")


class C2BNotice(Daraja):
    """A C2B confirmation or validation (paybill or till). Since 2023 `MSISDN` is hashed
    (SHA-256 hex of 2547XXXXXXXX) or masked (`2547 ***** 126`)."""

    transaction_type: str = Field(alias="TransactionType", examples=["Pay Bill"])
    trans_id: str = Field(alias="TransID", examples=["RKL51ZDR4F"])
    trans_time: str = Field(alias="TransTime", description="YYYYMMDDHHMMSS, East Africa Time")
    trans_amount: str = Field(alias="TransAmount", examples=["5.00"])
    business_short_code: str = Field(alias="BusinessShortCode", examples=["600966"])
    bill_ref_number: str | None = Field(
        default=None, alias="BillRefNumber",
        description="What the customer typed as the account: an invoice, POS sale or "
        "customer id, matched ignoring case and spaces",
    )  # fmt: skip
    invoice_number: str | None = Field(default=None, alias="InvoiceNumber")
    org_account_balance: str | None = Field(default=None, alias="OrgAccountBalance")
    third_party_trans_id: str | None = Field(default=None, alias="ThirdPartyTransID")
    msisdn: str = Field(alias="MSISDN", examples=["2547 ***** 126"])
    first_name: str | None = Field(default=None, alias="FirstName")
    middle_name: str | None = Field(default=None, alias="MiddleName")
    last_name: str | None = Field(default=None, alias="LastName")


class ResultParameter(Daraja):
    key: str = Field(alias="Key")
    value: Any = Field(default=None, alias="Value")


class ResultParameters(Daraja):
    result_parameter: list[ResultParameter] | ResultParameter = Field(alias="ResultParameter")


class DarajaResult(Daraja):
    result_type: int | str = Field(alias="ResultType")
    result_code: int | str = Field(alias="ResultCode", description="A number or a string")
    result_desc: str = Field(alias="ResultDesc")
    originator_conversation_id: str = Field(alias="OriginatorConversationID")
    conversation_id: str = Field(alias="ConversationID")
    transaction_id: str | None = Field(default=None, alias="TransactionID")
    result_parameters: ResultParameters | None = Field(default=None, alias="ResultParameters")
    reference_data: dict[str, Any] | None = Field(default=None, alias="ReferenceData")


class DarajaResultCallback(Daraja):
    """A B2C, Transaction Status or Account Balance result, or a B2C queue timeout."""

    result: DarajaResult = Field(alias="Result")


class Acknowledged(Daraja):
    """Stored: Safaricom need not send it again."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ResultCode": 0, "ResultDesc": "Accepted"}]}
    )

    result_code: Literal[0] = Field(alias="ResultCode")
    result_desc: Literal["Accepted"] = Field(alias="ResultDesc")


class ValidationAnswer(Daraja):
    """`"0"` accepts the payment; with `payments.c2b.reject_unknown_accounts`, C2B00012
    (unknown account) or C2B00013 (bad amount) turns it away."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ResultCode": "0", "ResultDesc": "Accepted"},
                                        {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}]}
    )  # fmt: skip

    result_code: str = Field(alias="ResultCode", examples=["0", "C2B00012", "C2B00013"])
    result_desc: Literal["Accepted", "Rejected"] = Field(alias="ResultDesc")


# Daraja's published samples (the same bodies as tests/fixtures/daraja).
STK_SUCCESS: dict[str, Any] = {
    "Body": {"stkCallback": {
        "MerchantRequestID": "2654-4b64-97ff-b827b542881d3130",
        "CheckoutRequestID": "ws_CO_15012024103045123708374149",
        "ResultCode": 0, "ResultDesc": "The service request is processed successfully.",
        "CallbackMetadata": {"Item": [
            {"Name": "Amount", "Value": 1.0}, {"Name": "MpesaReceiptNumber", "Value": "SAF1B2C3D4"},
            {"Name": "Balance"}, {"Name": "TransactionDate", "Value": 20240115103112},
            {"Name": "PhoneNumber", "Value": 254708374149},
        ]},
    }}
}  # fmt: skip
STK_CANCELLED: dict[str, Any] = {
    "Body": {"stkCallback": {
        "MerchantRequestID": "f1e2-4b95-a71d-b30d3cdbb7a7942864",
        "CheckoutRequestID": "ws_CO_21072024125243250722943992",
        "ResultCode": 1032, "ResultDesc": "Request cancelled by user",
    }}
}  # fmt: skip
C2B_CONFIRMATION: dict[str, Any] = {
    "TransactionType": "Pay Bill", "TransID": "RKL51ZDR4F", "TransTime": "20231121121325",
    "TransAmount": "5.00", "BusinessShortCode": "600966", "BillRefNumber": "INV-0042",
    "InvoiceNumber": "", "OrgAccountBalance": "25.00", "ThirdPartyTransID": "",
    "MSISDN": "2547 ***** 126", "FirstName": "NICHOLAS", "MiddleName": "", "LastName": "",
}  # fmt: skip
C2B_VALIDATION: dict[str, Any] = {
    "TransactionType": "Pay Bill", "TransID": "SAB7XYZ123", "TransTime": "20240716090102",
    "TransAmount": "1500.00", "BusinessShortCode": "600984", "BillRefNumber": "ACC12345",
    "InvoiceNumber": "", "OrgAccountBalance": "", "ThirdPartyTransID": "",
    "MSISDN": "bbff37cea44ac0b2d964ee0dfb8d2df8513dc7ba1b36129a929fc3fbd6dd4af4",
    "FirstName": "JOHN",
}  # fmt: skip
_B2C_QUEUE = {"ReferenceItem": {
    "Key": "QueueTimeoutURL",
    "Value": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit",
}}  # fmt: skip
B2C_SUCCESS: dict[str, Any] = {
    "Result": {
        "ResultType": 0, "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "OriginatorConversationID": "600997_Test_32et3241ed8yu",
        "ConversationID": "AG_20240706_2010364430d9bbdaf872", "TransactionID": "SG632NMUAB",
        "ResultParameters": {"ResultParameter": [
            {"Key": "TransactionAmount", "Value": 10},
            {"Key": "TransactionReceipt", "Value": "SG632NMUAB"},
            {"Key": "ReceiverPartyPublicName", "Value": "254705912645 - JANE DOE"},
            {"Key": "TransactionCompletedDateTime", "Value": "06.07.2024 22:48:52"},
            {"Key": "B2CUtilityAccountAvailableFunds", "Value": 8959269.6},
            {"Key": "B2CWorkingAccountAvailableFunds", "Value": 1199371.0},
            {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
            {"Key": "B2CChargesPaidAccountAvailableFunds", "Value": -1980.0},
        ]},
        "ReferenceData": _B2C_QUEUE,
    }
}  # fmt: skip
B2C_FAILURE: dict[str, Any] = {
    "Result": {
        "ResultType": 0, "ResultCode": 2001, "ResultDesc": "The initiator information is invalid.",
        "OriginatorConversationID": "53e3-4aa8-9fe0-8fb5e4092cdd3544366",
        "ConversationID": "AG_20240707_201062f6f6f5804f7a33", "TransactionID": "SG722NMVXQ",
        "ReferenceData": _B2C_QUEUE,
    }
}  # fmt: skip
ACCOUNT_BALANCE: dict[str, Any] = {
    "Result": {
        "ResultType": "0", "ResultCode": "0",
        "ResultDesc": "The service request is processed successfully",
        "OriginatorConversationID": "16917-22577599-3",
        "ConversationID": "AG_20200206_00005e091a8ec6b9eac5", "TransactionID": "OA90000000",
        "ResultParameters": {"ResultParameter": [
            {"Key": "AccountBalance",
             "Value": "Working Account|KES|700000.00|700000.00|0.00|0.00&Utility Account|KES|"
                      "228037.00|228037.00|0.00|0.00&Charges Paid Account|KES|-1540.00|"
                      "-1540.00|0.00|0.00"},
            {"Key": "BOCompletedTime", "Value": "20200109125710"},
        ]},
        "ReferenceData": {"ReferenceItem": {
            "Key": "QueueTimeoutURL",
            "Value": "https://internalsandbox.safaricom.co.ke/mpesa/abresults/v1/submit",
        }},
    }
}  # fmt: skip
B2C_TIMEOUT: dict[str, Any] = {  # undocumented at Safaricom: the envelope libraries expect
    "Result": {
        "ResultType": 1, "ResultCode": 1037,
        "ResultDesc": "The request timed out in the M-Pesa queue.",
        "OriginatorConversationID": "pesadesk-RF-20260206-0001-9f2c41ab",
        "ConversationID": "AG_20260206_2010364430d9bbdaf872", "TransactionID": "",
    }
}  # fmt: skip
