"""The Daraja client against the emulator over real HTTP, for every operation."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from pesadesk.core.errors import LossyAmount
from pesadesk.daraja.callbacks import (
    parse_account_balance_result,
    parse_b2c_result,
    parse_b2c_timeout,
    parse_c2b_payment,
    parse_reversal_result,
    parse_stk_callback,
    parse_transaction_status_result,
)
from pesadesk.daraja.client import DarajaClient, DarajaConfig, stk_password
from pesadesk.daraja.errors import (
    DarajaAuthError,
    DarajaOutcomeUnknown,
    DarajaRejected,
    DarajaRequestInvalid,
    DarajaServerError,
    DarajaUnavailable,
    DuplicateOriginatorConversationID,
    TransactionNotFound,
)
from pesadesk.emulator.scenarios import named_scenario
from pesadesk.testing.emulator import CallbackSink, RunningEmulator

T = TypeVar("T")

PHONE = "254712345678"


def run(emu: RunningEmulator, work: Callable[[DarajaClient], Awaitable[T]], **cfg: Any) -> T:
    """Run `work` with a client bound to the emulator, then close the client."""

    async def main() -> T:
        async with DarajaClient(emu.daraja_config(**cfg)) as daraja:
            return await work(daraja)

    return asyncio.run(main())


def urls(sink: CallbackSink) -> dict[str, str]:
    return {
        "callback_url": sink.url("/stk"),
        "result_url": sink.url("/result"),
        "timeout_url": sink.url("/timeout"),
    }


def push(daraja: DarajaClient, phone: str = PHONE, cents: int = 100_00) -> Any:
    return daraja.stk_push(
        phone=phone, amount_cents=cents, account_reference="INV-1", description="Order 1"
    )


# --- STK ---------------------------------------------------------------------------------


def test_stk_push_paybill_delivers_a_real_callback(
    emu: RunningEmulator, sink: CallbackSink
) -> None:
    """A paybill push is accepted and its success callback arrives over HTTP."""
    accepted = run(emu, lambda d: push(d, "0712345678"), **urls(sink))
    (received,) = sink.wait_for(1, path="/stk")
    callback = parse_stk_callback(received.body)
    assert accepted.response_code == "0"
    assert callback.checkout_request_id == accepted.checkout_request_id
    assert (callback.status, callback.amount_cents, callback.phone) == ("completed", 10000, PHONE)
    assert received.headers["businessshortcode"] == "174379"


def test_stk_push_till_sends_the_till_as_party_b(emu: RunningEmulator) -> None:
    """Buy Goods: BusinessShortCode is the store number and PartyB the till."""
    accepted = run(emu, push, transaction_type="CustomerBuyGoodsOnline", till_number="5555555")
    txn = emu.state.stk[accepted.checkout_request_id]
    assert (txn.transaction_type, txn.party_b, txn.shortcode) == (
        "CustomerBuyGoodsOnline",
        "5555555",
        "174379",
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"account_reference": "ACCOUNT-12345"}, DarajaRequestInvalid),
        ({"description": "fourteen chars"}, DarajaRequestInvalid),
        ({"account_reference": ""}, DarajaRequestInvalid),
        ({"amount_cents": 100_50}, LossyAmount),
    ],
)
def test_stk_push_checks_before_sending(
    emu: RunningEmulator, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    """Too-long references, descriptions and non-whole amounts never reach Daraja."""
    args: dict[str, Any] = {
        "phone": PHONE,
        "amount_cents": 100_00,
        "account_reference": "INV-1",
        "description": "Order 1",
        **kwargs,
    }
    with pytest.raises(error):
        run(emu, lambda d: d.stk_push(**args))
    assert emu.state.request_counts["/mpesa/stkpush/v1/processrequest"] == 0


def test_stk_push_uses_eat_timestamp_password(emu: RunningEmulator) -> None:
    """Password is base64(shortcode + passkey + timestamp) with a Nairobi timestamp."""
    expected = (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEw"
        "Zjc4ZTZiNzJhZGExZWQyYzkxOTIwMTYwMjE2MTQzMzQ4"
    )
    assert (
        stk_password(
            "174379",
            "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
            "20160216143348",
        )
        == expected
    )
    assert run(emu, push).response_code == "0"


def test_stk_push_wrong_passkey_is_not_retried(emu: RunningEmulator) -> None:
    """Wrong credentials come back as 500.001.1001 and the money request is sent once."""
    with pytest.raises(DarajaServerError) as caught:
        run(emu, push, passkey=SecretStr("not-the-passkey"))
    assert caught.value.error_code == "500.001.1001"
    assert caught.value.http_status == 500
    assert not caught.value.retryable
    assert "not-the-passkey" not in str(caught.value)
    assert emu.state.request_counts["/mpesa/stkpush/v1/processrequest"] == 1


def test_stk_query_pending_then_completed(emu: RunningEmulator) -> None:
    """ "Being processed" is a pending result; after the customer answers it is final."""

    async def work(daraja: DarajaClient) -> tuple[Any, Any]:
        accepted = await push(daraja)
        first = await daraja.stk_query(accepted.checkout_request_id)
        await asyncio.sleep(0.6)
        return first, await daraja.stk_query(accepted.checkout_request_id)

    config = emu.state.config
    emu.state.config = replace(config, callback_delay_seconds=0.5)  # a slow customer
    try:
        pending, final = run(emu, work)
    finally:
        emu.state.config = config
    assert (pending.pending, pending.status) == (True, "processing")
    assert (final.pending, final.status, final.result_code) == (False, "completed", "0")
    assert emu.state.request_counts["/mpesa/stkpushquery/v1/query"] == 2


def test_stk_query_reports_a_cancellation(emu: RunningEmulator) -> None:
    """The cancelled magic number ends as a cancelled STK Query result."""

    async def work(daraja: DarajaClient) -> Any:
        accepted = await push(daraja, "254700001032")
        await asyncio.sleep(0.1)
        return await daraja.stk_query(accepted.checkout_request_id)

    result = run(emu, work)
    assert (result.status, result.result_code) == ("cancelled", "1032")


def test_stk_query_unknown_id(emu: RunningEmulator) -> None:
    """An unknown CheckoutRequestID is TransactionNotFound, asked once."""
    with pytest.raises(TransactionNotFound) as caught:
        run(emu, lambda d: d.stk_query("ws_CO_000000"))
    assert caught.value.error_code == "500.001.1001"
    assert emu.state.request_counts["/mpesa/stkpushquery/v1/query"] == 1


# --- retries and network errors -----------------------------------------------------------


def test_lookups_retry_through_an_outage(emu: RunningEmulator) -> None:
    """Two 503s then success: STK Query is retried with backoff and succeeds."""

    async def work(daraja: DarajaClient) -> Any:
        accepted = await push(daraja)
        await asyncio.sleep(0.1)
        emu.state.start_outage(2)
        return await daraja.stk_query(accepted.checkout_request_id)

    assert run(emu, work).status == "completed"
    assert emu.state.request_counts["/mpesa/stkpushquery/v1/query"] == 3


def test_lookups_give_up_after_max_retries(emu: RunningEmulator) -> None:
    """A longer outage ends in a retryable DarajaServerError after 1 + max_retries tries."""
    emu.state.start_outage(10)
    with pytest.raises(DarajaServerError) as caught:
        run(emu, lambda d: d.stk_query("ws_CO_1"))
    assert caught.value.retryable
    assert caught.value.http_status == 503
    assert emu.state.request_counts["/mpesa/stkpushquery/v1/query"] == 3


def test_money_requests_are_never_retried(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A 503 on B2C surfaces at once; the request was sent exactly once."""
    emu.state.start_outage(1)
    with pytest.raises(DarajaServerError):
        run(
            emu,
            lambda d: d.b2c_payment(
                originator_conversation_id="REF-1",
                phone=PHONE,
                amount_cents=500_00,
                remarks="refund",
            ),
            b2c=True,
            **urls(sink),
        )
    assert emu.state.request_counts["/mpesa/b2c/v3/paymentrequest"] == 1
    assert emu.state.b2c == {}


def test_unreachable_daraja(emu: RunningEmulator) -> None:
    """Connection refused: lookups retry then fail; a money request fails without retry."""
    closed = "http://127.0.0.1:9"
    with pytest.raises(DarajaUnavailable) as lookup:
        run(emu, lambda d: d.stk_query("ws_CO_1"), base_url=closed)
    with pytest.raises(DarajaUnavailable) as money:
        run(emu, push, base_url=closed)
    assert lookup.value.retryable
    assert not isinstance(money.value, DarajaOutcomeUnknown)


def test_timeout_after_sending_money_is_outcome_unknown() -> None:
    """A read timeout on STK Push is DarajaOutcomeUnknown: settle by query, never resend."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.startswith("/oauth"):
            return httpx.Response(200, json={"access_token": "t" * 28, "expires_in": "3599"})
        raise httpx.ReadTimeout("slow", request=request)

    config = DarajaConfig(
        consumer_key=SecretStr("k"),
        consumer_secret=SecretStr("s"),
        base_url="https://daraja.test",
        shortcode="174379",
        passkey=SecretStr("pk"),
        callback_url="https://example.com/cb",
    )

    async def main() -> None:
        async with DarajaClient(config, transport=httpx.MockTransport(handler)) as daraja:
            await push(daraja)

    with pytest.raises(DarajaOutcomeUnknown):
        asyncio.run(main())
    assert calls == ["/oauth/v1/generate", "/mpesa/stkpush/v1/processrequest"]


# --- OAuth ---------------------------------------------------------------------------------


def test_concurrent_callers_share_one_token(emu: RunningEmulator) -> None:
    """Twenty requests at once cause exactly one OAuth call."""

    async def work(daraja: DarajaClient) -> list[Any]:
        return await asyncio.gather(*(push(daraja) for _ in range(20)))

    answers = run(emu, work)
    assert len({a.checkout_request_id for a in answers}) == 20
    assert emu.state.oauth_calls == 1


def test_refresh_once_on_invalid_token(emu: RunningEmulator) -> None:
    """A token Daraja stopped accepting is replaced once and the request goes through."""

    async def work(daraja: DarajaClient) -> Any:
        await push(daraja)
        emu.state.expire_tokens()
        return await push(daraja)

    assert run(emu, work).response_code == "0"
    assert emu.state.oauth_calls == 2
    assert emu.state.request_counts["/mpesa/stkpush/v1/processrequest"] == 3


def test_refresh_on_401_for_org_apis(emu: RunningEmulator, sink: CallbackSink) -> None:
    """The org APIs answer an expired token with HTTP 401; the client refreshes once."""

    async def work(daraja: DarajaClient) -> Any:
        await daraja.account_balance()
        emu.state.expire_tokens()
        return await daraja.account_balance()

    assert run(emu, work, b2c=True, **urls(sink)).response_code == "0"
    assert emu.state.oauth_calls == 2


def test_token_refreshed_shortly_before_expiry(emu: RunningEmulator) -> None:
    """Near `expires_in` the client fetches a new token before sending, without a 401."""
    now = [1000.0]

    async def main() -> None:
        async with DarajaClient(emu.daraja_config(), monotonic=lambda: now[0]) as daraja:
            await push(daraja)
            now[0] += 3599 - 200  # inside the 5-minute early-refresh margin
            await push(daraja)

    asyncio.run(main())
    assert emu.state.oauth_calls == 2
    assert emu.state.request_counts["/mpesa/stkpush/v1/processrequest"] == 2


def test_expires_in_as_a_string(emu: RunningEmulator) -> None:
    """A quoted `expires_in` is accepted."""
    emu.state.config = replace(emu.state.config, expires_in_as_string=True)
    try:
        assert run(emu, push).response_code == "0"
    finally:
        emu.state.config = replace(emu.state.config, expires_in_as_string=False)


def test_oauth_refusal_is_a_daraja_auth_error() -> None:
    """A refused key/secret raises DarajaAuthError with Daraja's code, without the secret."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "requestId": "r-1",
                "errorCode": "400.008.01",
                "errorMessage": "Invalid Authentication passed",
            },
        )

    config = DarajaConfig(
        consumer_key=SecretStr("key-123"),
        consumer_secret=SecretStr("very-secret"),
        base_url="https://daraja.test",
        shortcode="174379",
        passkey=SecretStr("pk"),
    )

    async def main() -> None:
        async with DarajaClient(config, transport=httpx.MockTransport(handler)) as daraja:
            await daraja.stk_query("ws_CO_1")

    with pytest.raises(DarajaAuthError) as caught:
        asyncio.run(main())
    assert (caught.value.error_code, caught.value.request_id) == ("400.008.01", "r-1")
    assert "very-secret" not in str(caught.value)
    assert "very-secret" not in repr(config)


# --- C2B ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/mpesa/confirm",
        "https://shop.example/M-PESA/confirm",
        "https://safaricom-hooks.example/c",
        "https://shop.example/run.exe",
        "https://shop.example/cmd/c",
        "https://shop.example/SQL/c",
        "https://shop.example/c?query=1",
        "https://shop.example/with space",
    ],
)
def test_c2b_register_refuses_forbidden_urls(emu: RunningEmulator, url: str) -> None:
    """URLs Safaricom would refuse are refused before any request."""
    with pytest.raises(DarajaRequestInvalid):
        run(
            emu,
            lambda d: d.c2b_register_urls(
                confirmation_url=url, validation_url="https://shop.example/c2b/validation"
            ),
        )
    assert emu.state.request_counts["/mpesa/c2b/v1/registerurl"] == 0


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_c2b_register_and_simulate(emu: RunningEmulator, sink: CallbackSink, version: str) -> None:
    """Simulate sends validation then confirmation, hashed on v1 and masked on v2."""

    async def work(daraja: DarajaClient) -> Any:
        await daraja.c2b_register_urls(
            confirmation_url=sink.url("/c2b/confirmation"),
            validation_url=sink.url("/c2b/validation"),
            version=version,  # type: ignore[arg-type]
        )
        return await daraja.c2b_simulate(
            amount_cents=1500_00,
            msisdn="0712345678",
            bill_ref_number="INV-7",
            version=version,  # type: ignore[arg-type]
        )

    answer = run(emu, work, shortcode="600000")
    received = sink.wait_for(2)
    assert answer.response_code == "0"
    assert answer.originator_conversation_id
    assert [r.path for r in received] == ["/c2b/validation", "/c2b/confirmation"]
    payment = parse_c2b_payment(received[1].body)
    assert (payment.amount_cents, payment.bill_ref) == (150000, "INV-7")
    if version == "v1":
        assert payment.msisdn_hash == hashlib.sha256(PHONE.encode()).hexdigest()
    else:
        assert (payment.msisdn_kind, payment.msisdn_as_sent) == ("masked", "2547 ***** 678")
    assert payment.org_account_balance_cents == 500_000_00 + 1500_00


# --- B2C and the initiator APIs -----------------------------------------------------------------


def b2c(daraja: DarajaClient, ref: str = "REF-1", phone: str = PHONE, cents: int = 500_00) -> Any:
    return daraja.b2c_payment(
        originator_conversation_id=ref, phone=phone, amount_cents=cents, remarks="Refund"
    )


def test_b2c_success_result(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A B2C v3 with our OriginatorConversationID pays and reports it at the ResultURL."""
    accepted = run(emu, b2c, b2c=True, **urls(sink))
    (received,) = sink.wait_for(1, path="/result")
    result = parse_b2c_result(received.body)
    assert accepted.originator_conversation_id == "REF-1"
    assert accepted.conversation_id.startswith("AG_")
    assert result.succeeded
    assert result.amount_cents == 500_00
    assert result.originator_conversation_id == "REF-1"
    assert result.utility_available_cents == 500_000_00 - 500_00
    assert emu.state.wallets[PHONE] == 100_000_00 + 500_00


def test_b2c_duplicate_originator_id(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A second B2C with the same OriginatorConversationID is refused with 500.002.1001."""

    async def work(daraja: DarajaClient) -> None:
        await b2c(daraja)
        await b2c(daraja)

    with pytest.raises(DuplicateOriginatorConversationID) as caught:
        run(emu, work, b2c=True, **urls(sink))
    assert (caught.value.http_status, caught.value.error_code) == (500, "500.002.1001")
    assert len(emu.state.b2c) == 1


def test_b2c_wrong_credential_is_2001(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A SecurityCredential that does not decrypt to the password gets result 2001."""
    wrong = SecretStr(emu.security_credential("not-the-password"))
    run(emu, b2c, b2c=True, security_credential=wrong, **urls(sink))
    (received,) = sink.wait_for(1, path="/result")
    assert parse_b2c_result(received.body).result_code == "2001"


def test_b2c_insufficient_utility_funds(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A B2C larger than the utility account fails with result 1 and moves nothing."""
    emu.state.set_utility("600000", 100_00)
    run(emu, b2c, b2c=True, **urls(sink))
    (received,) = sink.wait_for(1, path="/result")
    assert parse_b2c_result(received.body).result_code == "1"
    assert emu.state.accounts["600000"].utility == 100_00


def test_b2c_queue_timeout_then_transaction_status(
    emu: RunningEmulator, sink: CallbackSink
) -> None:
    """A queue timeout leaves the outcome unknown; Transaction Status says Completed."""

    async def work(daraja: DarajaClient) -> None:
        await b2c(daraja, "REF-T", phone="254700001037")
        sink.wait_for(1, path="/timeout")
        await daraja.transaction_status(originator_conversation_id="REF-T")

    run(emu, work, b2c=True, **urls(sink))
    (timeout,) = sink.at("/timeout")
    (status_body,) = sink.wait_for(1, path="/result")
    assert parse_b2c_timeout(timeout.body).originator_conversation_id == "REF-T"
    status = parse_transaction_status_result(status_body.body)
    assert status.completed
    assert status.amount_cents == 500_00
    assert status.originator_conversation_id == "REF-T"


def test_transaction_status_by_receipt(emu: RunningEmulator, sink: CallbackSink) -> None:
    """Transaction Status by an STK receipt reports the payment into the shortcode."""

    async def work(daraja: DarajaClient) -> None:
        await push(daraja)
        (cb,) = sink.wait_for(1, path="/stk")
        receipt = parse_stk_callback(cb.body).receipt
        await daraja.transaction_status(transaction_id=receipt)

    run(emu, work, **urls(sink))
    (received,) = sink.wait_for(1, path="/result")
    status = parse_transaction_status_result(received.body)
    assert status.completed
    assert status.amount_cents == 100_00
    assert status.credit_party_name == "174379 - Emulator Org"


def test_transaction_status_needs_an_id(emu: RunningEmulator) -> None:
    """Neither a receipt nor an OriginatorConversationID: refused locally."""
    with pytest.raises(DarajaRequestInvalid):
        run(emu, lambda d: d.transaction_status(), b2c=True)


def test_account_balance_is_truthful(emu: RunningEmulator, sink: CallbackSink) -> None:
    """The balance result shows the utility account as the emulator holds it."""
    emu.state.set_utility("600000", 1234_56)
    run(emu, lambda d: d.account_balance(), b2c=True, **urls(sink))
    (received,) = sink.wait_for(1, path="/result")
    result = parse_account_balance_result(received.body)
    utility = result.account("Utility Account")
    assert utility is not None
    assert utility.available_cents == 1234_56


def test_reversal_of_an_stk_payment(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A receipt is reversed once; the second attempt is R000001."""

    async def work(daraja: DarajaClient) -> None:
        await push(daraja)
        (cb,) = sink.wait_for(1, path="/stk")
        receipt = parse_stk_callback(cb.body).receipt or ""
        for _ in range(2):
            await daraja.reversal(
                transaction_id=receipt, amount_cents=100_00, remarks="Wrong order"
            )

    run(emu, work, **urls(sink))
    results = sink.wait_for(2, path="/result")
    codes = sorted(parse_reversal_result(r.body).result.result_code for r in results)
    assert codes == ["0", "R000001"]
    assert emu.state.wallets[PHONE] == 100_000_00


def test_pull_transactions(emu: RunningEmulator, sink: CallbackSink) -> None:
    """Pull Transactions lists a payment the shortcode received, in cents."""

    async def work(daraja: DarajaClient) -> Any:
        registered = await daraja.pull_register(
            nominated_number="0712345678", callback_url=sink.url("/pull")
        )
        assert registered.response_status == "1000"
        await push(daraja, cents=250_00)
        sink.wait_for(1, path="/stk")
        now = emu.state.now()
        return await daraja.pull_query(
            start=now - timedelta(hours=1), end=now + timedelta(minutes=1)
        )

    answer = run(emu, work, **urls(sink))
    (row,) = answer.transactions
    assert answer.response_code == "1000"
    assert (row.amount_cents, row.msisdn, row.bill_reference) == (250_00, PHONE, "INV-1")


def test_rejected_request_keeps_daraja_context(emu: RunningEmulator) -> None:
    """A 400 answer becomes DarajaRejected with Daraja's errorCode and requestId."""
    emu.state.set_scenario(named_scenario("success"))
    with pytest.raises(DarajaRejected) as caught:
        run(
            emu,
            lambda d: d.b2c_payment(
                originator_conversation_id="REF-X",
                phone=PHONE,
                amount_cents=500_00,
                remarks="Refund",
                result_url="not a url",
            ),
            b2c=True,
        )
    assert caught.value.error_code == "400.002.02"
    assert caught.value.request_id
