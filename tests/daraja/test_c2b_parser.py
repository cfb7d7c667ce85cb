"""The one C2B reader: confirmations, validations and Pull Transactions items, strictly."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pesadesk.core.errors import InvalidAmount, InvalidInput, LossyAmount
from pesadesk.core.phone import phone_hash
from pesadesk.daraja.callbacks import (
    C2BNotice,
    C2BPayment,
    classify_msisdn,
    parse_c2b_payment,
    parse_pull_transaction,
)
from pesadesk.daraja.errors import CallbackError
from pesadesk.daraja.schemas import PullQueryResponse

from .payloads import load_fixture

HASH_0722 = "8556a495c390f3ba95d2bdf6d06436f2fd09f516531f0a7cd9591c60812fa46d"


def body(**changes: Any) -> dict[str, Any]:
    """Sample S7 (a v2 confirmation) with some fields changed; `None` drops the field."""
    payload: dict[str, Any] = load_fixture("s7-c2b-confirmation-v2-masked-msisdn.json")
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


# --- the sample payloads -------------------------------------------------------------------


def test_v2_confirmation_with_masked_msisdn() -> None:
    """S7: every field the ingest path records comes out typed; a masked MSISDN has no hash."""
    c2b = parse_c2b_payment(body())
    assert isinstance(c2b, C2BPayment)
    assert (c2b.trans_id, c2b.amount_cents, c2b.bill_ref) == ("RKL51ZDR4F", 500, "INV-0042")
    assert (c2b.msisdn_as_sent, c2b.msisdn_hash, c2b.msisdn_kind) == (
        "2547 ***** 126",
        None,
        "masked",
    )
    assert c2b.phone is None
    assert c2b.payer_name == "NICHOLAS"
    assert c2b.trans_time == datetime(2023, 11, 21, 9, 13, 25, tzinfo=UTC)
    assert c2b.shortcode == "600966"
    assert c2b.org_account_balance_cents == 2500
    assert c2b.transaction_type == "Pay Bill"
    assert c2b.amount_problem is None


def test_v1_hashed_msisdn_without_middle_and_last_names() -> None:
    """S8: the SHA-256 of the number is the hash; missing name keys are empty strings."""
    c2b = parse_c2b_payment(
        load_fixture("s8-c2b-validation-v1-hashed-msisdn-no-middle-last-keys.json")
    )
    assert c2b.msisdn_kind == "hashed"
    assert c2b.msisdn_hash == hashlib.sha256(b"254708374149").hexdigest()
    assert c2b.msisdn_as_sent == c2b.msisdn_hash
    assert (c2b.first_name, c2b.middle_name, c2b.last_name) == ("JOHN", "", "")
    assert c2b.payer_name == "JOHN"
    assert c2b.amount_cents == 150000
    assert c2b.org_account_balance_cents is None


def test_parses_what_the_ingest_path_decodes() -> None:
    """Numbers decoded as Decimal (as the webhook decodes them) are read exactly."""
    raw = json.dumps(body(TransAmount=1234.5, MSISDN=254722000000)).encode()
    c2b = parse_c2b_payment(json.loads(raw, parse_float=Decimal))
    assert c2b.amount_cents == 123450
    assert (c2b.msisdn_kind, c2b.phone, c2b.msisdn_as_sent) == (
        "plain",
        "254722000000",
        "254722000000",
    )


# --- MSISDN --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "digest"),
    [
        (HASH_0722.upper(), "hashed", HASH_0722),
        (HASH_0722, "hashed", HASH_0722),
        ("0722000000", "plain", HASH_0722),
        ("+254 722 000000", "plain", HASH_0722),
        (254722000000, "plain", HASH_0722),
        ("2547 ***** 126", "masked", None),
        ("25470****149", "masked", None),
        ("", "empty", None),
        (None, "empty", None),
        ("not a number", "unknown", None),
    ],
)
def test_classify_msisdn(raw: object, kind: str, digest: str | None) -> None:
    """Each MSISDN form is told apart; a hash comes out lowercase, a clear number hashed."""
    found, found_digest, _phone = classify_msisdn(raw)
    assert (found, found_digest) == (kind, digest)


def test_plain_msisdn_is_hashed_the_way_daraja_hashes() -> None:
    """A number in clear gets the hash a v1 callback would carry, so a customer matches."""
    c2b = parse_c2b_payment(body(MSISDN="0722000000"))
    assert c2b.msisdn_hash == phone_hash("254722000000") == HASH_0722
    assert c2b.msisdn_as_sent == "0722000000"


def test_msisdn_is_kept_as_sent_and_cut_to_64() -> None:
    """An odd MSISDN is kept (cut to 64 characters) with no hash; none at all is None."""
    odd = parse_c2b_payment(body(MSISDN="x" * 80))
    assert (odd.msisdn_as_sent, odd.msisdn_hash, odd.msisdn_kind) == ("x" * 64, None, "unknown")
    assert parse_c2b_payment(body(MSISDN=None)).msisdn_as_sent is None
    assert parse_c2b_payment(body(MSISDN="")).msisdn_as_sent is None


# --- TransID -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trans_id", "reason"),
    [
        (None, "TransID is missing"),
        ("", "TransID is missing"),
        ("   ", "TransID is missing"),
        ("AB1", "4-40 letters and digits"),
        ("A" * 41, "4-40 letters and digits"),
        ("RKL-51ZDR4", "4-40 letters and digits"),
        ("RKL51 ZDR4", "4-40 letters and digits"),
        ({"id": "RKL51ZDR4F"}, "TransID must be a string"),
        (["RKL51ZDR4F"], "TransID must be a string"),
        (True, "TransID must be a string"),
    ],
)
def test_bad_trans_ids_are_refused(trans_id: object, reason: str) -> None:
    """A missing, empty, too short or long, punctuated or non-text TransID is InvalidInput."""
    with pytest.raises(InvalidInput) as caught:
        parse_c2b_payment(body(TransID=trans_id))
    assert isinstance(caught.value, CallbackError)
    assert reason in caught.value.message


@pytest.mark.parametrize("trans_id", ["ABCD", "A" * 40, "rkl51zdr4f", 12345678])
def test_trans_id_bounds(trans_id: object) -> None:
    """Four to forty letters and digits, in any case (a number is its digits) are accepted."""
    assert parse_c2b_payment(body(TransID=trans_id)).trans_id == str(trans_id)


# --- TransAmount ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("abc", InvalidAmount),
        ({"value": "500.00"}, InvalidAmount),
        ([500], InvalidAmount),
        (True, InvalidAmount),
        ("-500.00", InvalidAmount),
        (-500, InvalidAmount),
        ("0.00", InvalidAmount),
        (0, InvalidAmount),
        ("NaN", InvalidAmount),
        ("Infinity", InvalidAmount),
        ("", InvalidAmount),
        ("500.005", LossyAmount),
        (Decimal("0.001"), LossyAmount),
        ("250000.01", InvalidAmount),
        (300_000, InvalidAmount),
    ],
)
def test_bad_amounts_are_refused(amount: object, error: type[Exception]) -> None:
    """Amounts that are not numbers, are zero or less, lossy or over 250,000 are refused."""
    with pytest.raises(error) as caught:
        parse_c2b_payment(body(TransAmount=amount))
    assert "TransAmount" in str(caught.value)
    if error is InvalidAmount:
        assert not isinstance(caught.value, LossyAmount)


def test_missing_amount_is_refused() -> None:
    """A confirmation without TransAmount says so."""
    with pytest.raises(InvalidAmount, match="TransAmount is missing"):
        parse_c2b_payment(body(TransAmount=None))


@pytest.mark.parametrize(
    ("amount", "cents"),
    [("0.01", 1), ("1", 100), (" 5.00 ", 500), ("1,500.50", 150050), ("250000.00", 25_000_000)],
)
def test_good_amounts_are_exact_cents(amount: str, cents: int) -> None:
    """Amounts up to and including KES 250,000 become exact integer cents."""
    assert parse_c2b_payment(body(TransAmount=amount)).amount_cents == cents


@pytest.mark.parametrize("amount", ["abc", "0", "-1", "500.005", "250001", None])
def test_validation_keeps_a_bad_amount_as_a_problem(amount: str | None) -> None:
    """With require_amount=False a bad amount is None with the reason, for a C2B00013."""
    notice = parse_c2b_payment(body(TransAmount=amount), require_amount=False)
    assert type(notice) is C2BNotice
    assert notice.amount_cents is None
    assert notice.amount_problem
    assert "TransAmount" in notice.amount_problem
    assert notice.bill_ref == "INV-0042"


def test_validation_with_a_good_amount_reads_it() -> None:
    """The looser mode still reads a good amount and all other fields, no problem noted."""
    notice = parse_c2b_payment(body(TransAmount="75.50"), require_amount=False)
    assert (notice.amount_cents, notice.amount_problem) == (7550, None)


def test_validation_is_strict_on_everything_but_the_amount() -> None:
    """A bad TransID or TransTime is refused even when the amount is optional."""
    with pytest.raises(CallbackError):
        parse_c2b_payment(body(TransID="x"), require_amount=False)
    with pytest.raises(CallbackError):
        parse_c2b_payment(body(TransTime="yesterday"), require_amount=False)


# --- TransTime -----------------------------------------------------------------------------


def test_trans_time_is_eat_read_as_utc() -> None:
    """`YYYYMMDDHHmmss` is Nairobi time: 00:30 EAT on 1 Jan is 21:30 UTC on 31 Dec."""
    c2b = parse_c2b_payment(body(TransTime="20240101003000"))
    assert c2b.trans_time == datetime(2023, 12, 31, 21, 30, tzinfo=UTC)
    assert parse_c2b_payment(body(TransTime=20240101003000)).trans_time == c2b.trans_time


@pytest.mark.parametrize(
    "value", ["2024-01-01 00:30:00", "2024010100300", "20241301003000", "2024010100300x", "soon"]
)
def test_bad_trans_times_are_refused(value: str) -> None:
    """Anything but 14 digits of a real EAT date and time is InvalidInput."""
    with pytest.raises(CallbackError, match="TransTime"):
        parse_c2b_payment(body(TransTime=value))


def test_absent_trans_time_is_none() -> None:
    """A body without TransTime (or an empty one) has no time rather than a made-up one."""
    assert parse_c2b_payment(body(TransTime=None)).trans_time is None
    assert parse_c2b_payment(body(TransTime="")).trans_time is None


# --- BillRefNumber, names, shortcode, shape ---------------------------------------------------


def test_bill_ref_is_kept_as_sent() -> None:
    """Spaces and case are kept (matching ignores them later); over 100 characters is cut."""
    assert parse_c2b_payment(body(BillRefNumber="  inv-0042  ")).bill_ref == "  inv-0042  "
    assert parse_c2b_payment(body(BillRefNumber="R" * 150)).bill_ref == "R" * 100
    assert parse_c2b_payment(body(BillRefNumber=None)).bill_ref == ""
    assert parse_c2b_payment(body(BillRefNumber=12345)).bill_ref == "12345"
    with pytest.raises(CallbackError, match="BillRefNumber"):
        parse_c2b_payment(body(BillRefNumber={"ref": "INV-0042"}))


def test_payer_name_joins_first_middle_last() -> None:
    """First, middle and last names are joined with single spaces, blanks skipped, cut to 200."""
    full = parse_c2b_payment(body(FirstName=" JOHN ", MiddleName="", LastName="DOE"))
    assert full.payer_name == "JOHN DOE"
    long = parse_c2b_payment(body(FirstName="A" * 150, MiddleName="B" * 150))
    assert long.payer_name == "A" * 150 + " " + "B" * 49
    nameless = parse_c2b_payment(body(FirstName=None, MiddleName=None, LastName=None))
    assert nameless.payer_name is None
    with pytest.raises(CallbackError, match="FirstName"):
        parse_c2b_payment(body(FirstName=["JOHN"]))


def test_shortcode_is_text_or_none() -> None:
    """BusinessShortCode sent as a number is its digits; an empty one is None."""
    assert parse_c2b_payment(body(BusinessShortCode=600966)).shortcode == "600966"
    assert parse_c2b_payment(body(BusinessShortCode="")).shortcode is None


@pytest.mark.parametrize("payload", [[], "TransID=RKL51ZDR4F", None, 5])
def test_a_body_that_is_not_an_object_is_refused(payload: object) -> None:
    """Only a JSON object can be a C2B body."""
    with pytest.raises(CallbackError):
        parse_c2b_payment(payload)


def test_unreadable_org_balance_is_not_an_error() -> None:
    """OrgAccountBalance is information only: an odd value is None, the payment is kept."""
    assert parse_c2b_payment(body(OrgAccountBalance="n/a")).org_account_balance_cents is None


# --- Pull Transactions ---------------------------------------------------------------------

PULL_ITEM: dict[str, Any] = {
    "transactionId": "SAF1B2C3D4",
    "trxDate": "2024-01-15 10:31:12",
    "msisdn": 254722000000,
    "sender": "JANE DOE",
    "transactiontype": "c2b-pay-bill-debit",
    "billreference": " inv-7 ",
    "amount": "150.5",
    "organizationname": "Shop",
}


def test_pull_item_becomes_the_same_payment() -> None:
    """A Pull item is the C2BPayment its confirmation would have been, shortcode given."""
    c2b = parse_pull_transaction(PULL_ITEM, shortcode="600000")
    assert isinstance(c2b, C2BPayment)
    assert (c2b.trans_id, c2b.amount_cents, c2b.bill_ref) == ("SAF1B2C3D4", 15050, " inv-7 ")
    assert (c2b.msisdn_as_sent, c2b.msisdn_hash) == ("254722000000", HASH_0722)
    assert (c2b.payer_name, c2b.shortcode) == ("JANE DOE", "600000")
    assert c2b.trans_time == datetime(2024, 1, 15, 7, 31, 12, tzinfo=UTC)


def test_pull_item_from_the_query_answer() -> None:
    """An item already parsed by `pull_query` (with a UTC time and a hash) is read as well."""
    answer = PullQueryResponse.model_validate(
        {
            "ResponseCode": "1000",
            "Response": [
                [{**PULL_ITEM, "trxDate": "2024-01-15T07:31:12Z", "msisdn": HASH_0722.upper()}]
            ],
        }
    )
    (item,) = answer.transactions
    c2b = parse_pull_transaction(item)
    assert (c2b.msisdn_kind, c2b.msisdn_hash, c2b.shortcode) == ("hashed", HASH_0722, None)
    assert c2b.trans_time == datetime(2024, 1, 15, 7, 31, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "error", "reason"),
    [
        ({"transactionId": "S-1"}, CallbackError, "transactionId"),
        ({"amount": "0"}, InvalidAmount, "amount"),
        ({"amount": "10.001"}, LossyAmount, "amount"),
        ({"amount": "250000.50"}, InvalidAmount, "250,000"),
        ({"trxDate": "yesterday"}, CallbackError, "trxDate"),
        ({"amount": None}, CallbackError, "amount"),
    ],
)
def test_pull_items_follow_the_same_rules(
    changes: dict[str, Any], error: type[Exception], reason: str
) -> None:
    """A Pull item with a bad id, amount or date is refused like a bad confirmation."""
    item = {**PULL_ITEM, **changes}
    with pytest.raises(error) as caught:
        parse_pull_transaction(item)
    assert reason in str(caught.value)
