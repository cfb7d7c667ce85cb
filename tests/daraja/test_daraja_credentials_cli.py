"""SecurityCredential encryption and the Daraja CLI commands, against a live emulator."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from typer.testing import CliRunner

from pesadesk.cli import app
from pesadesk.daraja.credentials import (
    certificate_pem,
    decrypt_security_credential,
    encrypt_security_credential,
    generate_self_signed,
)
from pesadesk.daraja.errors import DarajaConfigError
from pesadesk.testing.emulator import CallbackSink, RunningEmulator

PASSWORD = "Safaricom999!*!"


def test_credential_round_trip_with_generated_cert() -> None:
    """PKCS#1 v1.5 with the certificate's key: the private key recovers the password."""
    key, cert = generate_self_signed(key_size=2048)
    credential = encrypt_security_credential(PASSWORD, certificate_pem(cert))
    ciphertext = base64.b64decode(credential)
    assert len(ciphertext) == 256
    assert key.decrypt(ciphertext, padding.PKCS1v15()).decode() == PASSWORD
    with pytest.raises(ValueError, match="Decryption failed"):
        key.decrypt(
            ciphertext,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )


def test_credential_accepts_der_and_refuses_garbage() -> None:
    """A DER certificate works too; bytes that are no certificate are a config error."""
    key, cert = generate_self_signed()
    credential = encrypt_security_credential(
        PASSWORD, cert.public_bytes(serialization.Encoding.DER)
    )
    assert decrypt_security_credential(credential, key) == PASSWORD
    assert decrypt_security_credential("bm90IGEgY3JlZGVudGlhbA==", key) is None
    with pytest.raises(DarajaConfigError):
        encrypt_security_credential(PASSWORD, b"not a certificate")


def test_encrypt_credential_command_reads_stdin(tmp_path: Path) -> None:
    """`encrypt-credential --cert FILE` prints a credential the key can decrypt."""
    key, cert = generate_self_signed()
    cert_file = tmp_path / "cert.pem"
    cert_file.write_bytes(certificate_pem(cert))
    result = CliRunner().invoke(
        app, ["encrypt-credential", "--cert", str(cert_file)], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    credential = result.output.strip().splitlines()[-1]
    assert decrypt_security_credential(credential, key) == PASSWORD
    assert PASSWORD not in result.output


def test_encrypt_credential_missing_cert(tmp_path: Path) -> None:
    """A certificate file that is not there exits 2 with a message."""
    result = CliRunner().invoke(
        app, ["encrypt-credential", "--cert", str(tmp_path / "nope.pem")], input="x\n"
    )
    assert result.exit_code == 2


def test_emulator_help_prints_default_password() -> None:
    """`pesadesk emulator --help` shows the initiator password a newcomer needs."""
    result = CliRunner().invoke(app, ["emulator", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert PASSWORD in result.output


def write_config(path: Path, emu: RunningEmulator, sink: CallbackSink, token: str = "") -> Path:
    credential = emu.security_credential()
    security = f"security:\n  webhook_token: {token}\n" if token else ""
    path.write_text(
        f"""
database_url: sqlite:///{path.parent}/unused.db
payments:
  mpesa:
    consumer_key: test-key
    consumer_secret: test-secret
    passkey: {emu.state.config.passkey}
    base_url: {emu.base_url}
  c2b:
    shortcode: "600000"
    confirmation_url: {sink.url("/api/webhooks/c2b/confirmation")}
    validation_url: {sink.url("/api/webhooks/c2b/validation")}
  b2c:
    consumer_key: test-key
    consumer_secret: test-secret
    security_credential: "{credential}"
    base_url: {emu.base_url}
{security}"""
    )
    return path


def test_c2b_register_and_simulate_commands(
    emu: RunningEmulator, sink: CallbackSink, tmp_path: Path
) -> None:
    """`c2b register` registers the configured URLs with the token; `c2b simulate` pays."""
    config = write_config(tmp_path / "config.yaml", emu, sink, token="tok123")
    runner = CliRunner()
    registered = runner.invoke(app, ["c2b", "register", "--config", str(config)])
    assert registered.exit_code == 0, registered.output
    registration = emu.state.c2b_registrations["600000"]
    assert registration.confirmation_url.endswith("/api/webhooks/c2b/confirmation?token=tok123")
    simulated = runner.invoke(
        app,
        [
            "c2b",
            "simulate",
            "--amount",
            "250",
            "--msisdn",
            "0712345678",
            "--ref",
            "INV-9",
            "--config",
            str(config),
        ],
    )
    assert simulated.exit_code == 0, simulated.output
    confirmation = sink.wait_for(1, path="/api/webhooks/c2b/confirmation")[0]
    assert confirmation.body["TransAmount"] == "250.00"
    assert confirmation.query == "token=tok123"


def test_c2b_simulate_refuses_bad_amount(
    emu: RunningEmulator, sink: CallbackSink, tmp_path: Path
) -> None:
    """A non-numeric amount exits 2 before anything is sent."""
    config = write_config(tmp_path / "config.yaml", emu, sink)
    result = CliRunner().invoke(
        app,
        [
            *("c2b", "simulate", "--amount", "lots", "--msisdn", "0712345678"),
            *("--ref", "X", "--config", str(config)),
        ],
    )
    assert result.exit_code == 2
    assert emu.state.request_counts["/mpesa/c2b/v1/simulate"] == 0


def test_balance_command_prints_accounts(
    emu: RunningEmulator, sink: CallbackSink, tmp_path: Path
) -> None:
    """`balance` waits for the asynchronous result and prints the utility balance."""
    emu.state.set_utility("600000", 4321_00)
    config = write_config(tmp_path / "config.yaml", emu, sink)
    result = CliRunner().invoke(
        app, ["balance", "--config", str(config), "--wait", "10"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "Utility Account" in result.output
    assert "KES 4,321.00" in result.output


def test_balance_command_without_b2c(tmp_path: Path) -> None:
    """Without B2C credentials `balance` says refunds are not configured."""
    config = tmp_path / "config.yaml"
    config.write_text("payments:\n  b2c:\n    consumer_key: '...'\n")
    result = CliRunner().invoke(app, ["balance", "--config", str(config)])
    assert result.exit_code == 2
    assert "not configured" in result.output
