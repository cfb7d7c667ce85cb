"""`pesadesk emulator`: the `--account` option serves more shortcodes; a bad option or key
file is one line and exit 2, never a traceback."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pesadesk.cli import app
from pesadesk.core.clock import daraja_timestamp
from pesadesk.daraja.client import stk_password
from pesadesk.serving import free_port

BASIC = "Basic " + base64.b64encode(b"any-key:any-secret").decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "600100"], "--account 600100:...: passkey must be a non-empty string"),
        (["--account", "600100:key:shop"], "--account 600100:...: unknown option 'shop'"),
        (["--account", "60:key"], "--account 60:...: shortcode must be 4 to 10 digits"),
    ],
)
def test_bad_account_is_one_line(args: list[str], message: str) -> None:
    """A malformed --account exits 2 with one line naming the problem."""
    result = CliRunner().invoke(app, ["emulator", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"pesadesk emulator: {message}")
    assert "Traceback" not in result.output


def test_key_file_that_holds_no_key_is_one_line(tmp_path: Path) -> None:
    """A --key-file that holds something else exits 2 with one line, never a traceback."""
    key_file = tmp_path / "emulator.pem"
    key_file.write_text("not a key\n")
    result = CliRunner().invoke(app, ["emulator", "--key-file", str(key_file)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"pesadesk emulator: {key_file} does not hold a PEM private key and certificate"
    )


def test_help_shows_the_account_option() -> None:
    """`pesadesk emulator --help` documents the repeatable --account option."""
    result = CliRunner().invoke(app, ["emulator", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--account" in result.output


def _wait_healthy(proc: subprocess.Popen[bytes], base: str, errors: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{base}/emulator/health").raise_for_status()
            return
        except httpx.TransportError:
            assert proc.poll() is None, errors.read_text()
            assert time.monotonic() < deadline, errors.read_text()
            time.sleep(0.1)


@pytest.mark.slow
def test_command_serves_the_accounts_given(tmp_path: Path) -> None:
    """`pesadesk emulator --account 600100:KEY:till=5555555:v1` serves that till with its
    passkey next to the sandbox shortcode, and refuses its C2B v2 register."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    passkey = "c3" * 32
    errors = tmp_path / "err.log"
    with errors.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pesadesk", "emulator", "--port", str(port),
             "--callback-delay", "0", "--account", f"600100:{passkey}:till=5555555:v1"],
            stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        try:
            _wait_healthy(proc, base, errors)
            merchants = httpx.get(f"{base}/emulator/merchants").json()
            token = httpx.get(
                f"{base}/oauth/v1/generate",
                params={"grant_type": "client_credentials"},
                headers={"Authorization": BASIC},
            ).json()["access_token"]
            stamp = daraja_timestamp(datetime.now(UTC))
            push = httpx.post(
                f"{base}/mpesa/stkpush/v1/processrequest",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "BusinessShortCode": "600100",
                    "Password": stk_password("600100", passkey, stamp),
                    "Timestamp": stamp,
                    "TransactionType": "CustomerBuyGoodsOnline",
                    "Amount": 5,
                    "PartyA": "254712345678",
                    "PartyB": "5555555",
                    "PhoneNumber": "254712345678",
                    "CallBackURL": "http://127.0.0.1:9/cb",
                    "AccountReference": "POS-1",
                    "TransactionDesc": "Sale",
                },
            )
            register = httpx.post(
                f"{base}/mpesa/c2b/v2/registerurl",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "ShortCode": "600100",
                    "ResponseType": "Completed",
                    "ConfirmationURL": "http://127.0.0.1:9/confirm",
                    "ValidationURL": "http://127.0.0.1:9/validate",
                },
            )
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    assert merchants["600100"] == {
        "kind": "till",
        "till_number": "5555555",
        "c2b_register_version": "v1",
    }
    assert "174379" in merchants
    assert push.json()["ResponseCode"] == "0"
    assert register.status_code == 401
