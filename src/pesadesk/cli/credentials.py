"""`pesadesk encrypt-credential` and `pesadesk seal-secret`: secrets for config.yaml."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from pesadesk.cli.app import USAGE, command, fail


def encrypt_credential(
    cert: Annotated[
        Path,
        typer.Option(
            help="Safaricom's (or the emulator's) certificate, PEM or DER.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Read the initiator password (prompt, or stdin when piped); print the SecurityCredential."""
    from pesadesk.daraja.credentials import encrypt_security_credential
    from pesadesk.daraja.errors import DarajaError

    data = cert.read_bytes()
    if sys.stdin.isatty():
        password = typer.prompt("Initiator password", hide_input=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password given", USAGE)
    try:
        credential = encrypt_security_credential(password, data)
    except DarajaError as exc:
        fail(f"{cert}: {exc.message}", USAGE)
    typer.echo(credential)


def seal_secret(
    new_key: Annotated[bool, typer.Option("--new-key", help="print a fresh key first")] = False,
) -> None:
    """Encrypt a secret from stdin for config.yaml (`enc:...`), with $PESADESK_SECRET_KEY."""
    from pesadesk.secrets import KEY_ENV, seal
    from pesadesk.secrets import new_key as make_key

    if new_key:
        typer.echo(f"{KEY_ENV}={make_key()}")
        return
    key = os.environ.get(KEY_ENV)
    if not key:
        fail(f"set {KEY_ENV} first (pesadesk seal-secret --new-key makes one)", USAGE)
    plain = sys.stdin.readline().rstrip("\n")
    if not plain:
        fail("nothing on stdin to seal", USAGE)
    try:
        typer.echo(seal(plain, key))
    except ValueError:
        fail(f"${KEY_ENV} is not a key pesadesk seal-secret --new-key made", USAGE)


def register(app: typer.Typer) -> None:
    command(app, "encrypt-credential")(encrypt_credential)
    command(app, "seal-secret")(seal_secret)
