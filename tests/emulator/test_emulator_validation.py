"""The emulator against hand-written requests: Daraja's validation, errors and callbacks."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509

from pesadesk.core.clock import daraja_timestamp
from pesadesk.daraja.client import stk_password
from pesadesk.emulator.scenarios import MAGIC_NUMBERS, scenario_for_phone
from pesadesk.emulator.state import SANDBOX_PASSKEY
from pesadesk.testing.emulator import CallbackSink, RunningEmulator

PHONE = "254712345678"
BASIC = "Basic " + base64.b64encode(b"any-key:any-secret").decode()


def token(emu: RunningEmulator) -> str:
    answer = httpx.get(
        f"{emu.base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": BASIC},
    )
    value: str = answer.json()["access_token"]
    return value


def post(
    emu: RunningEmulator, path: str, body: Any, *, bearer: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer if bearer is not None else token(emu)}"}
    return httpx.post(f"{emu.base_url}{path}", json=body, headers=headers)


def stk_body(callback: str = "https://example.com/cb", **changes: Any) -> dict[str, Any]:
    stamp = daraja_timestamp(datetime.now(UTC))
    body: dict[str, Any] = {
        "BusinessShortCode": 174379,
        "Password": stk_password("174379", SANDBOX_PASSKEY, stamp),
        "Timestamp": stamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": "1",
        "PartyA": PHONE,
        "PartyB": "174379",
        "PhoneNumber": int(PHONE),
        "CallBackURL": callback,
        "AccountReference": "INV-1",
        "TransactionDesc": "Order 1",
    }
    body.update(changes)
    return body


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    data = response.json()
    assert set(data) == {"requestId", "errorCode", "errorMessage"}
    return response.status_code, data["errorCode"], data["errorMessage"]


# --- OAuth and bearer -------------------------------------------------------------------------


def test_oauth_gives_any_key_a_token(emu: RunningEmulator) -> None:
    """Basic auth with any key and secret gets a 28-character token valid 3599 s."""
    answer = httpx.get(
        f"{emu.base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": BASIC},
    ).json()
    assert len(answer["access_token"]) == 28
    assert answer["expires_in"] == 3599


@pytest.mark.parametrize(
    ("params", "headers", "code"),
    [
        ({"grant_type": "client_credentials"}, {}, "400.008.01"),
        ({"grant_type": "client_credentials"}, {"Authorization": "Bearer x"}, "400.008.01"),
        ({"grant_type": "client_credentials"}, {"Authorization": "Basic !!!"}, "400.008.01"),
        ({"grant_type": "password"}, {"Authorization": BASIC}, "400.008.02"),
        ({}, {"Authorization": BASIC}, "400.008.02"),
    ],
)
def test_oauth_errors(
    emu: RunningEmulator, params: dict[str, str], headers: dict[str, str], code: str
) -> None:
    """Not Basic, not base64, or a wrong grant type get Daraja's OAuth error codes."""
    response = httpx.get(f"{emu.base_url}/oauth/v1/generate", params=params, headers=headers)
    assert error_of(response)[:2] == (400, code)


def test_bearer_is_required(emu: RunningEmulator) -> None:
    """No bearer header and an unknown token are refused with their codes."""
    missing = httpx.post(f"{emu.base_url}/mpesa/stkpush/v1/processrequest", json=stk_body())
    unknown = post(emu, "/mpesa/stkpush/v1/processrequest", stk_body(), bearer="nope")
    org = post(emu, "/mpesa/accountbalance/v1/query", {}, bearer="nope")
    assert error_of(missing)[1] == "404.001.04"
    assert error_of(unknown)[:2] == (404, "404.001.03")
    assert error_of(org)[:2] == (401, "401.002.01")


def test_unknown_path_and_wrong_method(emu: RunningEmulator) -> None:
    """Wrong paths are 404.001.01 and GET on a POST API is 405.001."""
    assert error_of(httpx.post(f"{emu.base_url}/mpesa/nothing/v1/here"))[:2] == (404, "404.001.01")
    got = httpx.get(f"{emu.base_url}/mpesa/stkpush/v1/processrequest")
    assert error_of(got)[:2] == (405, "405.001")


def test_malformed_json(emu: RunningEmulator) -> None:
    """A body that is not JSON is 400.002.05."""
    response = httpx.post(
        f"{emu.base_url}/mpesa/stkpush/v1/processrequest",
        content=b"{not json",
        headers={"Authorization": f"Bearer {token(emu)}", "Content-Type": "application/json"},
    )
    assert error_of(response)[:2] == (400, "400.002.05")


# --- STK Push validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Amount": 1.5}, "Bad Request - Invalid Amount"),
        ({"Amount": 1.0}, "Bad Request - Invalid Amount"),
        ({"Amount": "10.50"}, "Bad Request - Invalid Amount"),
        ({"Amount": 0}, "Bad Request - Invalid Amount"),
        ({"AccountReference": "ACCOUNT-12345"}, "Bad Request - Invalid AccountReference"),
        ({"AccountReference": None}, "Bad Request - Invalid AccountReference"),
        ({"TransactionDesc": None}, "Bad Request - Invalid Remarks"),
        ({"TransactionDesc": "fourteen chars"}, "Bad Request - Invalid TransactionDesc"),
        ({"PhoneNumber": "0712345678"}, "Bad Request - Invalid PhoneNumber"),
        ({"CallBackURL": "https://example.com/with space"}, "Bad Request - Invalid CallBackURL"),
        ({"TransactionType": "Pay"}, "Bad Request - Invalid TransactionType"),
        ({"BusinessShortCode": "17a379"}, "Bad Request - Invalid BusinessShortCode"),
        ({"Timestamp": "2024"}, "Bad Request - Invalid Timestamp"),
    ],
)
def test_stk_push_field_validation(
    emu: RunningEmulator, changes: dict[str, Any], message: str
) -> None:
    """Bad fields get 400.002.02 with Daraja's "Invalid <Field>" message."""
    response = post(emu, "/mpesa/stkpush/v1/processrequest", stk_body(**changes))
    assert error_of(response) == (400, "400.002.02", message)


def test_stk_push_wrong_password(emu: RunningEmulator) -> None:
    """A Password that is not base64(shortcode+passkey+timestamp) is "Wrong credentials"."""
    body = stk_body(Password=base64.b64encode(b"174379wrong20240101000000").decode())
    assert error_of(post(emu, "/mpesa/stkpush/v1/processrequest", body)) == (
        500,
        "500.001.1001",
        "Wrong credentials",
    )


def test_stk_push_timestamp_in_utc_is_accepted(emu: RunningEmulator) -> None:
    """A timestamp made in UTC is accepted when the Password was built from it (CONTRACT §8)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    body = stk_body(Timestamp=stamp, Password=stk_password("174379", SANDBOX_PASSKEY, stamp))
    assert post(emu, "/mpesa/stkpush/v1/processrequest", body).json()["ResponseCode"] == "0"


def test_stk_push_unknown_merchant(emu: RunningEmulator) -> None:
    """A shortcode the emulator does not have is "Merchant does not exist"."""
    stamp = daraja_timestamp(datetime.now(UTC))
    body = stk_body(
        BusinessShortCode="999999", Password=stk_password("999999", SANDBOX_PASSKEY, stamp)
    )
    assert error_of(post(emu, "/mpesa/stkpush/v1/processrequest", body))[2] == (
        "Merchant does not exist"
    )


def test_stk_push_accepts_numbers_and_strings(emu: RunningEmulator) -> None:
    """Mixed string/number fields as in the portal sample are accepted."""
    answer = post(emu, "/mpesa/stkpush/v1/processrequest", stk_body()).json()
    assert answer["ResponseCode"] == "0"
    assert answer["CheckoutRequestID"].startswith("ws_CO_")
    assert answer["CustomerMessage"] == "Success. Request accepted for processing"


def stk_query(emu: RunningEmulator, checkout: str) -> httpx.Response:
    stamp = daraja_timestamp(datetime.now(UTC))
    body = {
        "BusinessShortCode": "174379",
        "Password": stk_password("174379", SANDBOX_PASSKEY, stamp),
        "Timestamp": stamp,
        "CheckoutRequestID": checkout,
    }
    return post(emu, "/mpesa/stkpushquery/v1/query", body)


def test_stk_query_unknown_and_pending(emu: RunningEmulator) -> None:
    """Unknown IDs "do not Exist"; a fresh push "is being processed" (HTTP 500 both)."""
    config = emu.state.config
    emu.state.config = replace(config, callback_delay_seconds=2.0)
    try:
        answer = post(emu, "/mpesa/stkpush/v1/processrequest", stk_body())
        checkout = answer.json()["CheckoutRequestID"]
        unknown = stk_query(emu, "ws_CO_1")
        pending = stk_query(emu, checkout)
    finally:
        emu.state.config = config
    assert error_of(unknown) == (500, "500.001.1001", "The transaction does not Exist")
    assert error_of(pending) == (500, "500.001.1001", "The transaction is being processed")
    assert pending.json()["requestId"] == checkout


# --- scenarios and callbacks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("254700001032", 1032),
        ("254700001037", 1037),
        ("254700000001", 1),
        ("254700002001", 2001),
        ("254700001019", 1019),
    ],
)
def test_magic_numbers_drive_stk_results(
    emu: RunningEmulator, sink: CallbackSink, phone: str, code: int
) -> None:
    """Each magic number's STK callback carries its result code, as a number."""
    post(
        emu,
        "/mpesa/stkpush/v1/processrequest",
        stk_body(sink.url("/stk"), PartyA=phone, PhoneNumber=phone),
    )
    (received,) = sink.wait_for(1)
    callback = received.body["Body"]["stkCallback"]
    assert callback["ResultCode"] == code
    assert "CallbackMetadata" not in callback


def test_duplicate_and_missing_callbacks(emu: RunningEmulator, sink: CallbackSink) -> None:
    """`duplicate` sends the callback twice; `no_callback` sends none but queries truthfully."""
    post(
        emu,
        "/mpesa/stkpush/v1/processrequest",
        stk_body(sink.url("/twice"), PartyA="254700002222", PhoneNumber="254700002222"),
    )
    silent = post(
        emu,
        "/mpesa/stkpush/v1/processrequest",
        stk_body(sink.url("/never"), PartyA="254700000404", PhoneNumber="254700000404"),
    ).json()["CheckoutRequestID"]
    twice = sink.wait_for(2, path="/twice")
    time.sleep(0.1)
    truth = stk_query(emu, silent).json()
    assert twice[0].body == twice[1].body
    assert sink.at("/never") == []
    assert (truth["ResultCode"], truth["ResultDesc"]) == (
        "0",
        "The service request is processed successfully.",
    )


def test_control_endpoint_sets_scenarios(emu: RunningEmulator, sink: CallbackSink) -> None:
    """POST /emulator/scenarios makes one number cancel; DELETE restores success."""
    control = f"{emu.base_url}/emulator/scenarios"
    assert httpx.post(control, json={"phone": PHONE, "scenario": "cancelled"}).status_code == 200
    assert httpx.post(control, json={"scenario": "bogus"}).status_code == 400
    post(emu, "/mpesa/stkpush/v1/processrequest", stk_body(sink.url("/a")))
    (first,) = sink.wait_for(1, path="/a")
    httpx.delete(control)
    post(emu, "/mpesa/stkpush/v1/processrequest", stk_body(sink.url("/b")))
    (second,) = sink.wait_for(1, path="/b")
    assert first.body["Body"]["stkCallback"]["ResultCode"] == 1032
    assert second.body["Body"]["stkCallback"]["ResultCode"] == 0


def test_delayed_callback(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A delayed scenario holds the callback back by the seconds asked for."""
    httpx.post(
        f"{emu.base_url}/emulator/scenarios",
        json={"phone": PHONE, "scenario": "delayed", "delay_seconds": 1.5},
    )
    post(emu, "/mpesa/stkpush/v1/processrequest", stk_body(sink.url("/late")))
    with pytest.raises(TimeoutError):
        sink.wait_for(1, path="/late", timeout=0.5)
    assert len(sink.wait_for(1, path="/late", timeout=5)) == 1


def test_daraja_down_for_n_requests(emu: RunningEmulator) -> None:
    """`daraja_down` answers the next N API requests with a 5xx, then recovers."""
    bearer = token(emu)
    httpx.post(
        f"{emu.base_url}/emulator/scenarios",
        json={"scenario": "daraja_down", "requests": 2, "status": 503},
    )
    statuses = [
        post(emu, "/mpesa/stkpush/v1/processrequest", stk_body(), bearer=bearer).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 200]


def test_stk_payment_needs_money_in_the_wallet(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A push larger than the customer's wallet fails with result 1; the wallet is unchanged."""
    httpx.post(f"{emu.base_url}/emulator/wallets", json={"phone": PHONE, "balance": "50.00"})
    post(emu, "/mpesa/stkpush/v1/processrequest", stk_body(sink.url("/poor"), Amount=100))
    (received,) = sink.wait_for(1, path="/poor")
    assert received.body["Body"]["stkCallback"]["ResultCode"] == 1
    assert emu.state.wallets[PHONE] == 50_00


def test_scenario_table() -> None:
    """Magic numbers, the delayed pattern and the default follow the documented table."""
    assert scenario_for_phone("254799999999").name == "success"
    assert scenario_for_phone("254700005012").callback_delay == 12.0
    assert scenario_for_phone("254700002222").callback_copies == 2
    assert scenario_for_phone("254700000404").callback_copies == 0
    assert scenario_for_phone("254700000500").http_error == 500
    assert all(len(number) == 12 for number in MAGIC_NUMBERS)


# --- C2B --------------------------------------------------------------------------------------


def register(emu: RunningEmulator, sink: CallbackSink, version: str = "v1", **changes: Any) -> Any:
    body = {
        "ShortCode": "600000",
        "ResponseType": "Completed",
        "ConfirmationURL": sink.url("/c2b/confirmation"),
        "ValidationURL": sink.url("/c2b/validation"),
        **changes,
    }
    return post(emu, f"/mpesa/c2b/{version}/registerurl", body)


@pytest.mark.parametrize(
    "changes",
    [
        {"ResponseType": "completed"},
        {"ConfirmationURL": "https://shop.example/mpesa/confirm"},
        {"ValidationURL": "https://shop.example/Safaricom/validate"},
        {"ShortCode": "abc"},
    ],
)
def test_c2b_register_validation(
    emu: RunningEmulator, sink: CallbackSink, changes: dict[str, Any]
) -> None:
    """Sentence-case ResponseType and URLs without forbidden words are required."""
    assert error_of(register(emu, sink, **changes))[:2] == (400, "400.002.02")


def test_c2b_register_answer_keeps_the_typo(emu: RunningEmulator, sink: CallbackSink) -> None:
    """The answer spells OriginatorCoversationID as Safaricom does."""
    answer = register(emu, sink).json()
    assert set(answer) == {"OriginatorCoversationID", "ResponseCode", "ResponseDescription"}


def test_c2b_validation_rejection_stops_the_payment(
    emu: RunningEmulator, sink: CallbackSink
) -> None:
    """A C2B00012 answer at validation means no confirmation and no money moved."""
    register(emu, sink)
    sink.answers["/c2b/validation"] = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
    body = {
        "ShortCode": 600000,
        "CommandID": "CustomerPayBillOnline",
        "Amount": 10,
        "Msisdn": int(PHONE),
        "BillRefNumber": "nobody",
    }
    assert post(emu, "/mpesa/c2b/v1/simulate", body).json()["ResponseCode"] == "0"
    (validation,) = sink.wait_for(1, path="/c2b/validation")
    assert validation.body["MSISDN"] == hashlib.sha256(PHONE.encode()).hexdigest()
    assert "MiddleName" not in validation.body
    assert emu.state.accounts["600000"].utility == 500_000_00
    assert sink.at("/c2b/confirmation") == []


def test_c2b_duplicate_confirmation(emu: RunningEmulator, sink: CallbackSink) -> None:
    """The duplicate number's confirmation arrives twice with one TransID."""
    register(emu, sink, version="v2")
    body = {
        "ShortCode": "600000",
        "CommandID": "CustomerPayBillOnline",
        "Amount": "10",
        "Msisdn": "254700002222",
        "BillRefNumber": "INV-1",
    }
    post(emu, "/mpesa/c2b/v2/simulate", body)
    first, second = sink.wait_for(2, path="/c2b/confirmation")
    assert first.body["TransID"] == second.body["TransID"]
    assert first.body["MSISDN"] == "2547 ***** 222"
    assert first.body["OrgAccountBalance"] == "500010.00"


# --- B2C and org APIs -------------------------------------------------------------------------


def b2c_body(emu: RunningEmulator, sink: CallbackSink, **changes: Any) -> dict[str, Any]:
    body = {
        "OriginatorConversationID": "REF-1",
        "InitiatorName": "testapi",
        "SecurityCredential": emu.security_credential(),
        "CommandID": "BusinessPayment",
        "Amount": 100,
        "PartyA": 600000,
        "PartyB": PHONE,
        "Remarks": "Refund",
        "QueueTimeOutURL": sink.url("/timeout"),
        "ResultURL": sink.url("/result"),
        "Occassion": "order 1",
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"OriginatorConversationID": None}, "OriginatorConversationID"),
        ({"CommandID": "Payout"}, "CommandID"),
        ({"Amount": 100.5}, "Amount"),
        ({"PartyB": "0712345678"}, "PartyB"),
        ({"Remarks": "x"}, "Remarks"),
        ({"ResultURL": "nowhere"}, "ResultURL"),
    ],
)
def test_b2c_validation(
    emu: RunningEmulator, sink: CallbackSink, changes: dict[str, Any], field: str
) -> None:
    """B2C v3 fields are checked like Daraja: 400.002.02 Invalid <Field>."""
    response = post(emu, "/mpesa/b2c/v3/paymentrequest", b2c_body(emu, sink, **changes))
    assert error_of(response) == (400, "400.002.02", f"Bad Request - Invalid {field}")


def test_b2c_duplicate_and_v1(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A repeated OriginatorConversationID is 500.002.1001; v1 needs none and makes its own."""
    first = post(emu, "/mpesa/b2c/v3/paymentrequest", b2c_body(emu, sink))
    again = post(emu, "/mpesa/b2c/v3/paymentrequest", b2c_body(emu, sink))
    legacy = b2c_body(emu, sink)
    del legacy["OriginatorConversationID"]
    v1 = post(emu, "/mpesa/b2c/v1/paymentrequest", legacy).json()
    assert first.json()["ResponseDescription"] == "Accept the service request successfully."
    assert error_of(again) == (500, "500.002.1001", "Duplicate OriginatorConversationID.")
    assert v1["OriginatorConversationID"] != "REF-1"


def test_b2c_limits(emu: RunningEmulator, sink: CallbackSink) -> None:
    """Below KES 10 is result 2; a wrong-PIN number is 2001; no money moves."""
    post(emu, "/mpesa/b2c/v3/paymentrequest", b2c_body(emu, sink, Amount=5))
    post(
        emu,
        "/mpesa/b2c/v3/paymentrequest",
        b2c_body(emu, sink, OriginatorConversationID="REF-2", PartyB="254700002001"),
    )
    ours = {"REF-1", "REF-2"}  # a late callback from an earlier test must not count

    def mine(received: Any) -> bool:
        return bool(received.body["Result"]["OriginatorConversationID"] in ours)

    results = sink.wait_for(2, path="/result", predicate=mine)
    assert sorted(r.body["Result"]["ResultCode"] for r in results) == [2, 2001]
    assert emu.state.accounts["600000"].utility == 500_000_00


def test_pull_transactions_window(emu: RunningEmulator, sink: CallbackSink) -> None:
    """Pull query lists the last 48 h only; nothing found is code 1001."""
    post(emu, "/mpesa/stkpush/v1/processrequest", stk_body(sink.url("/stk"), Amount=7))
    sink.wait_for(1, path="/stk")
    now = datetime.now(UTC) + timedelta(hours=3)  # EAT wall clock
    fmt = "%Y-%m-%d %H:%M:%S"
    window = {
        "ShortCode": "174379",
        "StartDate": (now - timedelta(days=5)).strftime(fmt),
        "EndDate": (now + timedelta(minutes=5)).strftime(fmt),
        "OffSetValue": "0",
    }
    found = post(emu, "/pulltransactions/v1/query", window).json()
    empty = post(emu, "/pulltransactions/v1/query", {**window, "ShortCode": "600000"}).json()
    (rows,) = found["Response"]
    assert found["ResponseCode"] == "1000"
    assert rows[0]["amount"] == "7.00"
    assert empty["ResponseCode"] == "1001"


def test_certificate_endpoint(emu: RunningEmulator) -> None:
    """The emulator publishes the certificate whose key decrypts SecurityCredentials."""
    pem = httpx.get(f"{emu.base_url}/emulator/certificate").content
    assert x509.load_pem_x509_certificate(pem) == emu.state.certificate
