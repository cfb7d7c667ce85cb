"""STK Push and Query accept a Timestamp in any time zone when the Password was built from
it (CONTRACT §8); a clock skew is logged, never refused; a wrong Password still is."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from pesadesk.core.clock import EAT, daraja_timestamp
from pesadesk.daraja.client import DarajaClient, stk_password
from pesadesk.daraja.errors import DarajaServerError
from pesadesk.emulator.config import SANDBOX_PASSKEY
from pesadesk.emulator.stk import likely_utc_offset
from pesadesk.testing.emulator import RunningEmulator

PHONE = "254712345678"
BASIC = "Basic " + base64.b64encode(b"any-key:any-secret").decode()
SKEW_EVENT = "emulator_stk_timestamp_skew"


class ZoneClock:
    """A clock whose wall time is that of `zone`, read as if it were Nairobi's: what a
    server in that zone does when it formats its local time as the STK Timestamp."""

    def __init__(self, zone: timezone) -> None:
        self.zone = zone

    def now(self) -> datetime:
        local = datetime.now(UTC).astimezone(self.zone).replace(tzinfo=None)
        return local.replace(tzinfo=EAT)


def push_and_query(emu: RunningEmulator, zone: timezone, **cfg: Any) -> tuple[str, str]:
    """STK Push then STK Query through the real client, its clock in `zone`."""

    async def main() -> tuple[str, str]:
        config = emu.daraja_config(**cfg)
        async with DarajaClient(config, clock=ZoneClock(zone)) as daraja:
            accepted = await daraja.stk_push(
                phone=PHONE, amount_cents=100_00, account_reference="INV-1", description="Order 1"
            )
            await asyncio.sleep(0.15)  # past the callback delay: the query has an answer
            queried = await daraja.stk_query(accepted.checkout_request_id)
            return accepted.response_code, queried.result_code

    return asyncio.run(main())


def raw_push(emu: RunningEmulator, stamp: str, passkey: str = SANDBOX_PASSKEY) -> httpx.Response:
    """An STK Push written by hand with the given Timestamp, over real HTTP."""
    token = httpx.get(
        f"{emu.base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": BASIC},
    ).json()["access_token"]
    body = {
        "BusinessShortCode": "174379",
        "Password": stk_password("174379", passkey, stamp),
        "Timestamp": stamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 1,
        "PartyA": PHONE,
        "PartyB": "174379",
        "PhoneNumber": PHONE,
        "CallBackURL": "https://example.com/cb",
        "AccountReference": "INV-1",
        "TransactionDesc": "Order 1",
    }
    return httpx.post(
        f"{emu.base_url}/mpesa/stkpush/v1/processrequest",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_client_in_nairobi_time_pays_without_a_skew_logged(emu: RunningEmulator) -> None:
    """A client on Nairobi time is accepted by STK Push and Query and no skew is logged."""
    with capture_logs() as logs:
        assert push_and_query(emu, EAT) == ("0", "0")
    assert [entry for entry in logs if entry["event"] == SKEW_EVENT] == []


def test_client_on_a_utc_server_pays_and_the_skew_is_logged(emu: RunningEmulator) -> None:
    """A client writing UTC wall time (mpesakit on a UTC server) is accepted by Push and
    Query; the three-hour skew is logged with the zone it most likely came from."""
    with capture_logs() as logs:
        assert push_and_query(emu, UTC) == ("0", "0")
    skews = [entry for entry in logs if entry["event"] == SKEW_EVENT]
    assert len(skews) == 2  # the push and the query
    assert skews[0]["likely_utc_offset"] == "UTC+00:00"
    assert skews[0]["log_level"] == "warning"
    assert abs(skews[0]["skew_seconds"] + 3 * 3600) < 60


def test_client_west_of_greenwich_is_accepted(emu: RunningEmulator) -> None:
    """A Timestamp written in UTC-05:00 is accepted as well."""
    assert push_and_query(emu, timezone(timedelta(hours=-5))) == ("0", "0")


def test_wrong_passkey_is_still_refused_in_any_zone(emu: RunningEmulator) -> None:
    """A Password built with another passkey is "Wrong credentials", UTC clock or not."""
    with pytest.raises(DarajaServerError) as caught:
        push_and_query(emu, UTC, passkey=SecretStr("not-the-passkey"))
    assert "Wrong credentials" in str(caught.value)


@pytest.mark.parametrize(
    "stamp",
    [
        daraja_timestamp(datetime.now(UTC)),  # Nairobi
        datetime.now(UTC).strftime("%Y%m%d%H%M%S"),  # UTC
        (datetime.now(UTC) + timedelta(hours=5, minutes=30)).strftime("%Y%m%d%H%M%S"),
    ],
)
def test_hand_written_timestamps_in_any_zone(emu: RunningEmulator, stamp: str) -> None:
    """Hand-written requests with Nairobi, UTC and UTC+05:30 Timestamps are all accepted."""
    assert raw_push(emu, stamp).json()["ResponseCode"] == "0"


def test_hand_written_wrong_password_is_refused(emu: RunningEmulator) -> None:
    """The Password is still checked against the Timestamp sent: another passkey fails."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    answer = raw_push(emu, stamp, passkey="f" * 64)
    assert (answer.status_code, answer.json()["errorMessage"]) == (500, "Wrong credentials")


def test_timestamp_that_is_no_date_is_refused(emu: RunningEmulator) -> None:
    """Fourteen digits that are no date (month 13) are still an invalid Timestamp."""
    answer = raw_push(emu, "20241301120000")
    assert answer.json()["errorMessage"] == "Bad Request - Invalid Timestamp"


def test_likely_utc_offset() -> None:
    """The zone is guessed from the skew to the quarter hour; absurd skews guess nothing."""
    now = datetime(2026, 2, 6, 9, 0, tzinfo=UTC)
    assert likely_utc_offset(now.astimezone(EAT), now) == "UTC+03:00"
    assert likely_utc_offset(now - timedelta(hours=3), now) == "UTC+00:00"
    assert likely_utc_offset(now - timedelta(hours=8, seconds=20), now) == "UTC-05:00"
    assert likely_utc_offset(now + timedelta(hours=2, minutes=30), now) == "UTC+05:30"
    assert likely_utc_offset(now - timedelta(days=3), now) is None
