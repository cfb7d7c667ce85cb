"""STK callbacks that cannot be trusted on their own word (CONTRACT §8) are read, not refused,
and say why they must be confirmed by STK Query before they move money."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pesadesk.daraja.callbacks import StkCallback, parse_stk_callback

from .payloads import load_fixture

S2 = load_fixture("s2-stk-callback-success.json")


def success(metadata: Any = None, *, drop_metadata: bool = False) -> dict[str, Any]:
    """Sample S2 with its `CallbackMetadata` replaced (or dropped)."""
    payload = copy.deepcopy(S2)
    callback = payload["Body"]["stkCallback"]
    if drop_metadata:
        del callback["CallbackMetadata"]
    elif metadata is not None:
        callback["CallbackMetadata"] = metadata
    return payload


def items(*, without: str = "", **values: Any) -> dict[str, Any]:
    """S2's metadata items, one left out or some values replaced."""
    found = []
    for item in copy.deepcopy(S2["Body"]["stkCallback"]["CallbackMetadata"]["Item"]):
        if item["Name"] == without:
            continue
        if item["Name"] in values:
            item = {"Name": item["Name"], "Value": values[item["Name"]]}
        found.append(item)
    return {"Item": found}


def test_complete_success_is_trustworthy() -> None:
    """S2 has receipt, amount and a well-formed list of items: nothing to hold."""
    cb = parse_stk_callback(S2)
    assert (cb.trustworthy, cb.incomplete_reason, cb.problems) == (True, None, ())
    assert (cb.receipt, cb.amount_cents) == ("SAF1B2C3D4", 100)


@pytest.mark.parametrize(
    "name", ["s3-stk-cancelled.json", "s4-stk-timeout.json", "s5-stk-insufficient-funds.json"]
)
def test_failures_need_no_metadata(name: str) -> None:
    """A cancellation, timeout or refusal completes nothing, so it has nothing to hold."""
    cb = parse_stk_callback(load_fixture(name))
    assert not cb.succeeded
    assert cb.trustworthy
    assert cb.incomplete_reason is None


def test_item_as_an_object_is_read_but_held() -> None:
    """`Item` sent as one object instead of a list: its value is read, the success is held."""
    cb = parse_stk_callback(
        success({"Item": {"Name": "MpesaReceiptNumber", "Value": "SAF1B2C3D4"}})
    )
    assert cb.receipt == "SAF1B2C3D4"
    assert not cb.trustworthy
    assert cb.incomplete_reason is not None
    assert "object, not a list" in cb.incomplete_reason
    assert "Amount is missing" in cb.incomplete_reason


def test_receipt_less_success_is_held() -> None:
    """A success without MpesaReceiptNumber must not complete a payment with receipt null."""
    cb = parse_stk_callback(success(items(without="MpesaReceiptNumber")))
    assert cb.receipt is None
    assert cb.amount_cents == 100
    assert cb.incomplete_reason == "MpesaReceiptNumber is missing"


def test_valueless_receipt_is_missing() -> None:
    """`{"Name": "MpesaReceiptNumber"}` with no Value is as good as no receipt."""
    metadata = items()
    for item in metadata["Item"]:
        if item["Name"] == "MpesaReceiptNumber":
            del item["Value"]
    cb = parse_stk_callback(success(metadata))
    assert cb.incomplete_reason == "MpesaReceiptNumber is missing"


def test_amount_less_success_is_held() -> None:
    """A success without Amount cannot be checked against what was asked: held."""
    cb = parse_stk_callback(success(items(without="Amount")))
    assert (cb.amount_cents, cb.incomplete_reason) == (None, "Amount is missing")


def test_success_without_metadata_is_held() -> None:
    """ResultCode 0 and no CallbackMetadata at all: both receipt and amount are missing."""
    cb = parse_stk_callback(success(drop_metadata=True))
    assert cb.incomplete_reason == "MpesaReceiptNumber is missing; Amount is missing"


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ([{"Name": "Amount", "Value": 1}], "CallbackMetadata is not an object"),
        ("Amount=1", "CallbackMetadata is not an object"),
        ({"Item": "Amount=1"}, "CallbackMetadata.Item is missing or not a list"),
        ({"Items": []}, "CallbackMetadata.Item is missing or not a list"),
        ({"Item": ["Amount", 1]}, "not a {Name, Value} object"),
        ({"Item": [{"Value": 1}]}, "not a {Name, Value} object"),
        ({"Item": [{"Name": 5, "Value": 1}]}, "not a {Name, Value} object"),
        ({"Item": [{"name": "Amount", "value": 1}]}, "not a {Name, Value} object"),
    ],
)
def test_malformed_metadata_is_read_without_crashing(metadata: Any, reason: str) -> None:
    """Metadata in a shape Daraja does not send is held with the reason, never an error."""
    cb = parse_stk_callback(success(metadata))
    assert isinstance(cb, StkCallback)
    assert cb.succeeded
    assert not cb.trustworthy
    assert cb.incomplete_reason is not None
    assert reason in cb.incomplete_reason


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"Amount": "abc"}, "Amount: amount must be a number"),
        ({"Amount": 1.005}, "more than 2 decimal places"),
        ({"Amount": 0}, "Amount is not above zero"),
        ({"Amount": {"value": 1}}, "Amount is not a plain value"),
        ({"MpesaReceiptNumber": "SAF 1B2C3"}, "does not look like an M-Pesa receipt"),
        ({"MpesaReceiptNumber": ["SAF1B2C3D4"]}, "MpesaReceiptNumber is not a plain value"),
        ({"MpesaReceiptNumber": True}, "MpesaReceiptNumber is not a plain value"),
    ],
)
def test_unusable_values_are_held(values: dict[str, Any], reason: str) -> None:
    """An amount that is not a positive exact number, or a receipt unlike a receipt, is held."""
    cb = parse_stk_callback(success(items(**values)))
    assert cb.incomplete_reason is not None
    assert reason in cb.incomplete_reason


def test_a_repeated_name_is_held() -> None:
    """Two Amount items (which one is true?) hold the success; the first is the one read."""
    metadata = items()
    metadata["Item"].append({"Name": "Amount", "Value": 5000})
    cb = parse_stk_callback(success(metadata))
    assert cb.amount_cents == 100
    assert cb.incomplete_reason == "Amount appears more than once in CallbackMetadata"


def test_odd_balance_or_phone_does_not_hold_a_success() -> None:
    """Balance is information only: an unreadable one is None and the success stands."""
    cb = parse_stk_callback(success(items(Balance="n/a")))
    assert (cb.balance_cents, cb.trustworthy) == (None, True)


def test_failure_with_malformed_metadata_still_parses() -> None:
    """A cancellation carrying odd metadata is read as the cancellation it is."""
    payload = load_fixture("s3-stk-cancelled.json")
    payload["Body"]["stkCallback"]["CallbackMetadata"] = {"Item": "junk"}
    cb = parse_stk_callback(payload)
    assert (cb.status, cb.trustworthy) == ("cancelled", True)
    assert cb.problems == ("CallbackMetadata.Item is missing or not a list",)
