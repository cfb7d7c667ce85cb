"""Callback parsers against the reference's sample payloads and their known variants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pesadesk.daraja.callbacks import (
    parse_account_balance_result,
    parse_account_balances,
    parse_b2c_result,
    parse_b2c_timeout,
    parse_reversal_result,
    parse_stk_callback,
    parse_transaction_status_result,
)
from pesadesk.daraja.errors import CallbackError
from pesadesk.daraja.result_codes import b2c_message, code_str, stk_message, stk_status
from pesadesk.daraja.schemas import (
    AsyncAccepted,
    C2BResponse,
    ErrorEnvelope,
    PullQueryResponse,
    StkPushResponse,
)

from .payloads import load_fixture


def test_stk_success_reads_metadata_by_name() -> None:
    """S2: amount, receipt, EAT date and numeric phone come out typed; valueless Balance is None."""
    cb = parse_stk_callback(load_fixture("s2-stk-callback-success.json"))
    assert cb.status == "completed"
    assert cb.succeeded
    assert cb.amount_cents == 100
    assert cb.receipt == "SAF1B2C3D4"
    assert cb.balance_cents is None
    assert "Balance" in cb.metadata
    assert cb.transaction_date == datetime(2024, 1, 15, 7, 31, 12, tzinfo=UTC)
    assert cb.phone == "254708374149"
    assert cb.checkout_request_id == "ws_CO_15012024103045123708374149"


def test_stk_metadata_order_does_not_matter() -> None:
    """Items shuffled into another order still land in the right fields."""
    payload = load_fixture("s2-stk-callback-success.json")
    items = payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    payload["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = list(reversed(items))
    cb = parse_stk_callback(payload)
    assert (cb.amount_cents, cb.receipt) == (100, "SAF1B2C3D4")


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("s3-stk-cancelled.json", "cancelled", "1032"),
        ("s4-stk-timeout.json", "timeout", "1037"),
        ("s5-stk-insufficient-funds.json", "failed", "1"),
    ],
)
def test_stk_failures_map_to_statuses(name: str, status: str, code: str) -> None:
    """S3-S5: result codes become payment statuses and carry no metadata."""
    cb = parse_stk_callback(load_fixture(name))
    assert (cb.status, cb.result_code) == (status, code)
    assert cb.amount_cents is None
    assert cb.receipt is None
    assert cb.message


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (0, "completed"),
        ("0", "completed"),
        (1032, "cancelled"),
        ("1032", "cancelled"),
        (1037, "timeout"),
        ("1019", "timeout"),
        (1, "failed"),
        (2001, "failed"),
        ("SFC_IC0003", "failed"),
        (9999, "failed"),
    ],
)
def test_stk_result_codes_compare_as_strings(code: object, status: str) -> None:
    """Number and string forms of a code give the same payment status."""
    assert stk_status(code) == status


def test_code_str_normalises_numbers() -> None:
    """0, "0", 0.0 and " 0 " are one code; None is the empty code."""
    assert {code_str(0), code_str("0"), code_str(0.0), code_str(" 0 ")} == {"0"}
    assert code_str(None) == ""


def test_result_messages_are_human() -> None:
    """Known codes have our sentence; unknown ones fall back to Daraja's description."""
    assert "cancelled" in stk_message(1032)
    assert stk_message("7777", "Some new thing") == "Some new thing"
    assert "utility" in b2c_message(1).lower()


def test_stk_callback_with_string_result_code() -> None:
    """A ResultCode sent as the string "1032" is still a cancellation."""
    payload = load_fixture("s3-stk-cancelled.json")
    payload["Body"]["stkCallback"]["ResultCode"] = "1032"
    assert parse_stk_callback(payload).status == "cancelled"


@pytest.mark.parametrize(
    "payload",
    [{}, {"Body": {}}, {"Body": {"stkCallback": {"ResultCode": 0}}}, [], "text"],
)
def test_stk_callback_shape_errors(payload: Any) -> None:
    """Bodies without the stkCallback shape are refused with a CallbackError."""
    with pytest.raises(CallbackError):
        parse_stk_callback(payload)


def test_b2c_result_success() -> None:
    """S9: parameters by key, the dd.MM.yyyy time in EAT, balances in cents."""
    result = parse_b2c_result(load_fixture("s9-b2c-result-success.json"))
    assert result.succeeded
    assert result.amount_cents == 1000
    assert result.receipt == "SG632NMUAB"
    assert result.receiver_phone == "254705912645"
    assert result.completed_at == datetime(2024, 7, 6, 19, 48, 52, tzinfo=UTC)
    assert result.utility_available_cents == 895926960
    assert result.charges_paid_available_cents == -198000
    assert result.recipient_registered is True
    assert result.originator_conversation_id == "600997_Test_32et3241ed8yu"
    assert result.result.reference_data["QueueTimeoutURL"].startswith("https://")


def test_b2c_result_failure_has_no_parameters() -> None:
    """S10: a 2001 failure parses with no amount or receipt."""
    result = parse_b2c_result(load_fixture("s10-b2c-result-failure.json"))
    assert not result.succeeded
    assert result.result_code == "2001"
    assert result.amount_cents is None
    assert result.receipt is None


def test_b2c_result_spelling_variants() -> None:
    """OriginatorCoversationID, string codes and a ReferenceItem list are all accepted."""
    payload = load_fixture("s10-b2c-result-failure.json")
    inner = payload["Result"]
    inner["OriginatorCoversationID"] = inner.pop("OriginatorConversationID")
    inner["ResultCode"] = "0"
    inner["ReferenceData"]["ReferenceItem"] = [
        {"Key": "QueueTimeoutURL", "Value": "https://x.example/q"},
        {"Key": "Occassion"},
    ]
    result = parse_b2c_result(payload)
    assert result.succeeded
    assert result.originator_conversation_id == "53e3-4aa8-9fe0-8fb5e4092cdd3544366"
    assert result.result.reference_data == {
        "QueueTimeoutURL": "https://x.example/q",
        "Occassion": None,
    }


def test_b2c_timeout_envelope_and_flat() -> None:
    """A queue timeout is read from a Result envelope or a flat body."""
    enveloped = parse_b2c_timeout(
        {"Result": {"ResultType": 1, "ResultCode": 1037, "OriginatorConversationID": "R-1"}}
    )
    flat = parse_b2c_timeout({"Originator Conversation ID": "R-2", "ConversationID": "AG_1"})
    assert (enveloped.originator_conversation_id, enveloped.result_code) == ("R-1", "1037")
    assert (flat.originator_conversation_id, flat.conversation_id) == ("R-2", "AG_1")
    with pytest.raises(CallbackError):
        parse_b2c_timeout({"Result": {"ResultCode": 1}})


def test_account_balance_result() -> None:
    """S12: the &/| balance string becomes typed accounts in cents; string codes work."""
    result = parse_account_balance_result(load_fixture("s12-account-balance-result.json"))
    assert result.result.succeeded
    assert [a.name for a in result.accounts] == [
        "Working Account",
        "Utility Account",
        "Charges Paid Account",
    ]
    utility = result.account("utility account")
    assert utility is not None
    assert utility.available_cents == 22803700
    charges = result.account("Charges Paid Account")
    assert charges is not None
    assert charges.current_cents == -154000
    assert result.completed_at == datetime(2020, 1, 9, 9, 57, 10, tzinfo=UTC)


def test_account_balances_columns() -> None:
    """current | available | reserved | uncleared, as the B2B sample shows."""
    (account,) = parse_account_balances("Working Account|KES|346568.83|6186.83|340382.00|0.00")
    assert (account.current_cents, account.available_cents, account.reserved_cents) == (
        34656883,
        618683,
        34038200,
    )
    assert account.current_cents == account.available_cents + account.reserved_cents
    with pytest.raises(CallbackError):
        parse_account_balances("Working Account|KES")


def test_transaction_status_spaced_keys() -> None:
    """Older results with `Originator Conversation ID` spaced keys are normalised."""
    payload = {
        "Result": {
            "ResultType": 0,
            "ResultCode": 0,
            "ResultDesc": "The service request has been accepted successfully.",
            "OriginatorConversationID": "10816-694520-2",
            "ConversationID": "AG_20170727_000059c52529a8e080bd",
            "TransactionID": "LGR0000000",
            "ResultParameters": {
                "ResultParameter": [
                    {"Key": "ReceiptNo", "Value": "LGR919G2AV"},
                    {"Key": "Conversation ID", "Value": "AG_20170727_00004492b1b6d0078fbe"},
                    {"Key": "FinalisedTime", "Value": 20170727101415},
                    {"Key": "Amount", "Value": 10},
                    {"Key": "TransactionStatus", "Value": "Completed"},
                    {"Key": "ReasonType", "Value": "Salary Payment via API"},
                    {"Key": "TransactionReason"},
                    {"Key": "DebitPartyCharges", "Value": "Fee For B2C Payment|KES|33.00"},
                    {"Key": "DebitAccountType", "Value": "Utility Account"},
                    {"Key": "InitiatedTime", "Value": 20170727101415},
                    {"Key": "Originator Conversation ID", "Value": "19455-773836-1"},
                    {"Key": "CreditPartyName", "Value": "254708374149 - John Doe"},
                    {"Key": "DebitPartyName", "Value": "600134 - Safaricom157"},
                ]
            },
            "ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": "aaaa"}},
        }
    }
    status = parse_transaction_status_result(payload)
    assert status.completed
    assert status.originator_conversation_id == "19455-773836-1"
    assert status.conversation_id == "AG_20170727_00004492b1b6d0078fbe"
    assert status.receipt_no == "LGR919G2AV"
    assert status.amount_cents == 1000
    assert status.finalised_at == datetime(2017, 7, 27, 7, 14, 15, tzinfo=UTC)


def test_reversal_result() -> None:
    """A reversal result gives the original receipt; R000001 is not a success."""
    ok = parse_reversal_result(
        {
            "Result": {
                "ResultCode": 0,
                "ResultParameters": {
                    "ResultParameter": [
                        {"Key": "OriginalTransactionID", "Value": "SAF1B2C3D4"},
                        {"Key": "Amount", "Value": 100},
                        {"Key": "TransCompletedTime", "Value": 20240115103112},
                    ]
                },
            }
        }
    )
    again = parse_reversal_result({"Result": {"ResultCode": "R000001"}})
    assert ok.succeeded
    assert ok.original_transaction_id == "SAF1B2C3D4"
    assert ok.amount_cents == 10000
    assert not again.succeeded


def test_sync_answers_parse() -> None:
    """S1, S6 and S11 parse into their models with codes as strings."""
    accepted = StkPushResponse.model_validate(load_fixture("s1-stk-accepted.json"))
    pending = ErrorEnvelope.model_validate(load_fixture("s6-stk-query-still-pending.json"))
    duplicate = ErrorEnvelope.model_validate(load_fixture("s11-b2c-duplicate-request.json"))
    assert accepted.response_code == "0"
    assert pending.error_code == "500.001.1001"
    assert duplicate.error_message == "Duplicate OriginatorConversationID."


def test_c2b_answer_accepts_both_spellings() -> None:
    """`OriginatorCoversationID` (Safaricom's typo) and the right spelling both parse."""
    typo = C2BResponse.model_validate(
        {"OriginatorCoversationID": "7619-37765134-1", "ResponseCode": "0"}
    )
    right = AsyncAccepted.model_validate(
        {"OriginatorConversationID": "x-1", "ConversationID": "AG_1", "ResponseCode": 0}
    )
    assert typo.originator_conversation_id == "7619-37765134-1"
    assert (right.originator_conversation_id, right.response_code) == ("x-1", "0")


def test_pull_query_answer() -> None:
    """Pull Transactions' list of lists flattens; numbers and amounts come out exact."""
    answer = PullQueryResponse.model_validate(
        {
            "ResponseRefID": "r1",
            "ResponseCode": "1000",
            "ResponseMessage": "Success",
            "Response": [
                [
                    {
                        "transactionId": "SAF1B2C3D4",
                        "trxDate": "2024-01-15T07:31:12Z",
                        "msisdn": 254708374149,
                        "sender": "UNKNOWN",
                        "transactiontype": "c2b-pay-bill-debit",
                        "billreference": "INV-1",
                        "amount": "150.5",
                        "organizationname": "JOHN",
                    }
                ]
            ],
        }
    )
    (row,) = answer.transactions
    assert row.msisdn == "254708374149"
    assert row.amount_cents == 15050
    assert row.received_at == datetime(2024, 1, 15, 7, 31, 12, tzinfo=UTC)
