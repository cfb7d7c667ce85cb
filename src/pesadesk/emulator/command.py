"""`pesadesk emulator`: run the Daraja emulator on a port, offline.

The CLI registers `emulator_command`; everything it needs lives in the emulator package,
which imports nothing of the desk (no settings, no database).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pesadesk.daraja.credentials import certificate_pem, generate_self_signed, load_certificate
from pesadesk.daraja.errors import DarajaError
from pesadesk.emulator.app import create_emulator_app
from pesadesk.emulator.config import (
    DEFAULT_INITIATOR_PASSWORD,
    SANDBOX_PASSKEY,
    EmulatorConfig,
    Merchant,
    parse_merchant_spec,
)
from pesadesk.emulator.state import EmulatorState

__all__ = ["emulator_command", "load_or_create_key", "parse_accounts"]


def _fail(message: str) -> typer.Exit:
    """One line on stderr and exit 2: a usage problem, never a traceback."""
    typer.echo(f"pesadesk emulator: {message}", err=True)
    return typer.Exit(2)


def load_or_create_key(path: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A key file keeps SecurityCredentials valid across emulator restarts."""
    if path.is_file():
        try:
            data = path.read_bytes()
            key = serialization.load_pem_private_key(data, password=None)
            certificate = load_certificate(data)
        except (OSError, ValueError, TypeError, DarajaError):
            raise _fail(f"{path} does not hold a PEM private key and certificate") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise _fail(f"{path} does not hold an RSA private key")
        return key, certificate
    key, cert = generate_self_signed()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.write_bytes(pem + certificate_pem(cert))
        path.chmod(0o600)
    except OSError as exc:
        raise _fail(f"cannot write {path}: {exc.strerror}") from None
    return key, cert


def parse_accounts(specs: list[str]) -> tuple[Merchant, ...]:
    """`--account` values as merchants; a bad one is a one-line usage error."""
    merchants: dict[str, Merchant] = {}
    for spec in specs:
        try:
            merchant = parse_merchant_spec(spec)
        except ValueError as exc:
            shortcode = spec.partition(":")[0]
            raise _fail(f"--account {shortcode}:...: {exc}") from None
        merchants[merchant.shortcode] = merchant
    return tuple(merchants.values())


def _banner(config: EmulatorConfig, url: str) -> None:
    typer.echo(f"Daraja emulator: {url}")
    typer.echo(f"STK shortcode {config.stk_shortcode}; B2C/C2B shortcode {config.b2c_shortcode}")
    for merchant in config.merchants:
        till = f" (till {merchant.till_number})" if merchant.till_number else ""
        typer.echo(
            f"Shortcode {merchant.shortcode}: {merchant.kind}{till}, "
            f"C2B register up to {merchant.c2b_register_version}"
        )
    typer.echo(f"Initiator: {config.initiator_name} (password as given by --initiator-password)")
    typer.echo("Scenarios: GET /emulator/scenarios; state: GET /emulator/state")


ACCOUNT_HELP = (
    "Another STK/C2B shortcode, repeatable: SHORTCODE:PASSKEY[:paybill|till|till=NUMBER]"
    "[:v1] (v1: the app lacks the C2B v2 product). E.g. --account 600100:mykey:till=5555555"
)


def emulator_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8090,
    shortcode: Annotated[str, typer.Option(help="STK Push (Lipa na M-Pesa) shortcode.")] = (
        "174379"
    ),
    passkey: Annotated[
        str, typer.Option(help="STK passkey (default: the sandbox's public passkey).")
    ] = SANDBOX_PASSKEY,
    b2c_shortcode: Annotated[
        str, typer.Option(help="B2C shortcode; also the C2B paybill.")
    ] = "600000",
    initiator_name: Annotated[str, typer.Option(help="B2C initiator user name.")] = "testapi",
    initiator_password: Annotated[
        str,
        typer.Option(
            help=f"Initiator password the SecurityCredential must decrypt to "
            f"(default: {DEFAULT_INITIATOR_PASSWORD})."
        ),
    ] = DEFAULT_INITIATOR_PASSWORD,
    cert_out: Annotated[
        Path | None,
        typer.Option(help="Write the emulator's certificate (PEM) here, for encrypt-credential."),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(help="Keep the emulator's RSA key here (created if missing) across runs."),
    ] = None,
    callback_delay: Annotated[
        float, typer.Option(help="Seconds before a customer 'answers' and callbacks go out.")
    ] = 0.3,
    account: Annotated[list[str] | None, typer.Option("--account", help=ACCOUNT_HELP)] = None,
) -> None:
    """Run the Daraja emulator: Safaricom's API paths, validation and callbacks, offline."""
    config = EmulatorConfig(
        stk_shortcode=shortcode,
        passkey=passkey,
        b2c_shortcode=b2c_shortcode,
        c2b_shortcodes=(b2c_shortcode,),
        merchants=parse_accounts(account or []),
        initiator_name=initiator_name,
        initiator_password=initiator_password,
        callback_delay_seconds=callback_delay,
    )
    key = load_or_create_key(key_file) if key_file else None
    state = EmulatorState(config, key=key)
    if cert_out:
        try:
            cert_out.write_bytes(state.certificate_pem)
        except OSError as exc:
            raise _fail(f"cannot write {cert_out}: {exc.strerror}") from None
        typer.echo(f"Certificate: {cert_out}")
    _banner(config, f"http://{host}:{port}")
    uvicorn.run(create_emulator_app(state=state), host=host, port=port, log_level="info")
