"""CLI commands that talk to Daraja: the emulator, C2B register/simulate, balance, credential.

`pesadesk.cli` calls `register_commands(app)`; the `c2b` group is the module-level
`c2b_app` so that other commands (`c2b pull`) can join it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pesadesk.accounts.daraja import b2c_config, c2b_config
from pesadesk.config import Settings, load_settings
from pesadesk.core.errors import PesadeskError
from pesadesk.core.money import format_kes, positive_cents
from pesadesk.daraja.callbacks import AccountBalanceResult, parse_account_balance_result
from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.credentials import encrypt_security_credential
from pesadesk.daraja.errors import CallbackError, DarajaError
from pesadesk.daraja.result_codes import b2c_message
from pesadesk.emulator.command import emulator_command

__all__ = ["c2b_app", "register_commands"]

out = Console()
err = Console(stderr=True)

c2b_app = typer.Typer(
    help="C2B (customers paying the Paybill/till): register URLs, simulate, pull.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="config.yaml (default: $PESADESK_CONFIG or ./config.yaml)"),
]


def _settings(config_file: Path | None) -> Settings:
    try:
        return load_settings(config_file)
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def with_webhook_token(url: str, settings: Settings) -> str:
    """Add `?token=` when `security.webhook_token` is set (CONTRACT §2)."""
    token = settings.security.webhook_token
    if token is None or not token.get_secret_value():
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "token"]
    query.append(("token", token.get_secret_value()))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _run(coro: Any) -> Any:
    """Run a Daraja call; a refusal is a message and exit 1, not a traceback."""
    try:
        return asyncio.run(coro)
    except DarajaError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    except PesadeskError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None


# --- pesadesk c2b register / simulate ----------------------------------------------------------


@c2b_app.command("register")
def c2b_register(
    config: ConfigOption = None,
    version: Annotated[
        str, typer.Option(help="v1: hashed MSISDN in callbacks; v2: masked MSISDN.")
    ] = "v1",
    response_type: Annotated[
        str, typer.Option(help="What M-Pesa does when validation is unreachable.")
    ] = "Completed",
) -> None:
    """Register the C2B validation and confirmation URLs with Daraja."""
    settings = _settings(config)
    if version not in ("v1", "v2") or response_type not in ("Completed", "Cancelled"):
        err.print("--version is v1 or v2; --response-type is Completed or Cancelled")
        raise typer.Exit(2)
    c2b = settings.payments.c2b
    confirmation = with_webhook_token(c2b.confirmation_url, settings)
    validation = with_webhook_token(c2b.validation_url, settings)
    daraja_config = c2b_config(settings, shortcode=c2b.shortcode)

    async def run() -> Any:
        async with DarajaClient(daraja_config) as daraja:
            return await daraja.c2b_register_urls(
                confirmation_url=confirmation,
                validation_url=validation,
                response_type=_response_type(response_type),
                version="v2" if version == "v2" else "v1",
            )

    answer = _run(run())
    out.print(f"Registered C2B URLs for shortcode {c2b.shortcode}: {answer.response_description}")
    out.print(f"  confirmation: {c2b.confirmation_url}")
    out.print(f"  validation:   {c2b.validation_url}")


def _response_type(value: str) -> Literal["Completed", "Cancelled"]:
    return "Cancelled" if value == "Cancelled" else "Completed"


@c2b_app.command("simulate")
def c2b_simulate(
    amount: Annotated[str, typer.Option(help="Whole shillings, e.g. 500.")],
    msisdn: Annotated[str, typer.Option(help="The paying phone, e.g. 254708374149.")],
    ref: Annotated[str, typer.Option(help="BillRefNumber: the account number typed.")],
    config: ConfigOption = None,
    till: Annotated[bool, typer.Option(help="Buy Goods (till) instead of Pay Bill.")] = False,
) -> None:
    """Ask Daraja (sandbox or emulator) to simulate a customer paying the Paybill."""
    settings = _settings(config)
    try:
        cents = positive_cents(amount)
    except PesadeskError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    daraja_config = c2b_config(settings)

    async def run() -> Any:
        async with DarajaClient(daraja_config) as daraja:
            return await daraja.c2b_simulate(
                amount_cents=cents,
                msisdn=msisdn,
                bill_ref_number=None if till else ref,
                command_id="CustomerBuyGoodsOnline" if till else "CustomerPayBillOnline",
            )

    answer = _run(run())
    out.print(
        f"Simulated {format_kes(cents)} from {msisdn} to {settings.payments.c2b.shortcode} "
        f"ref {ref!r}: {answer.response_description} ({answer.originator_conversation_id})"
    )


# --- pesadesk balance ------------------------------------------------------------------------


@asynccontextmanager
async def _result_listener(host: str, port: int) -> AsyncIterator[tuple[str, asyncio.Queue[Any]]]:
    """A throwaway HTTP endpoint that receives the Account Balance result."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def receive(request: Request) -> JSONResponse:
        with suppress(ValueError):
            queue.put_nowait(await request.json())
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Accepted"})

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", ws="none")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the result listener did not start")
            await asyncio.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{bound}", queue
    finally:
        server.should_exit = True
        await task


def balance_command(
    config: ConfigOption = None,
    listen_host: Annotated[
        str, typer.Option(help="Where to receive the asynchronous result.")
    ] = "127.0.0.1",
    listen_port: Annotated[int, typer.Option(help="0: any free port.")] = 0,
    public_url: Annotated[
        str | None,
        typer.Option(help="Public URL that reaches the listener (needed with real Daraja)."),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the result.")] = 60.0,
) -> None:
    """Ask Daraja for the B2C shortcode's balances and print them."""
    settings = _settings(config)
    b2c = settings.payments.b2c
    if not b2c.configured:
        err.print("[red]M-Pesa B2C (refunds) not configured. Contact admin.[/red]")
        raise typer.Exit(2)
    daraja_config = b2c_config(settings)

    async def run() -> AccountBalanceResult:
        async with (
            _result_listener(listen_host, listen_port) as (local_url, queue),
            DarajaClient(daraja_config) as daraja,
        ):
            url = (public_url or local_url).rstrip("/")
            await daraja.account_balance(
                result_url=f"{url}/balance/result", timeout_url=f"{url}/balance/timeout"
            )
            try:
                async with asyncio.timeout(wait):
                    payload = await queue.get()
            except TimeoutError:
                raise DarajaError(f"no balance result arrived within {wait:g} s") from None
            try:
                return parse_account_balance_result(payload)
            except CallbackError as exc:
                raise DarajaError(f"the balance result is malformed: {exc.message}") from None

    result: AccountBalanceResult = _run(run())
    if not result.result.succeeded:
        message = b2c_message(result.result.result_code, result.result.result_desc)
        err.print(f"[red]Daraja refused: {message} (ResultCode {result.result.result_code})[/red]")
        raise typer.Exit(1)
    table = Table(title=f"Balances of shortcode {b2c.shortcode}")
    for column in ("Account", "Current", "Available", "Reserved", "Uncleared"):
        table.add_column(column, justify="left" if column == "Account" else "right")
    for account in result.accounts:
        table.add_row(
            account.name,
            format_kes(account.current_cents),
            format_kes(account.available_cents),
            format_kes(account.reserved_cents),
            format_kes(account.uncleared_cents),
        )
    out.print(table)


# --- pesadesk encrypt-credential --------------------------------------------------------------


def encrypt_credential_command(
    cert: Annotated[
        Path, typer.Option(help="Safaricom's (or the emulator's) certificate, PEM or DER.")
    ],
) -> None:
    """Read the initiator password (prompt, or stdin when piped); print the SecurityCredential."""
    try:
        data = cert.read_bytes()
    except OSError as exc:
        err.print(f"[red]cannot read {cert}: {exc.strerror}[/red]")
        raise typer.Exit(2) from None
    if sys.stdin.isatty():
        password = typer.prompt("Initiator password", hide_input=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        err.print("[red]no password given[/red]")
        raise typer.Exit(2)
    try:
        credential = encrypt_security_credential(password, data)
    except DarajaError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    typer.echo(credential)


def register_commands(app: typer.Typer) -> None:
    """Add `emulator`, `c2b register|simulate`, `balance` and `encrypt-credential` to `app`."""
    app.command("emulator")(emulator_command)
    app.command("balance")(balance_command)
    app.command("encrypt-credential")(encrypt_credential_command)
    app.add_typer(c2b_app, name="c2b")
