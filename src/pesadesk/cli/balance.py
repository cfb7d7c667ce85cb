"""`pesadesk balance`: the B2C shortcode's balances, which Daraja sends back asynchronously."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any

import typer
from rich.table import Table

from pesadesk.cli.app import (
    USAGE,
    ConfigOption,
    PortOption,
    command,
    fail,
    listen_error,
    out,
    settings,
)
from pesadesk.core.money import format_kes
from pesadesk.daraja.callbacks import AccountBalanceResult, parse_account_balance_result
from pesadesk.daraja.errors import CallbackError, DarajaError
from pesadesk.daraja.result_codes import b2c_message


@asynccontextmanager
async def _result_listener(host: str, port: int) -> AsyncIterator[tuple[str, asyncio.Queue[Any]]]:
    """A throwaway HTTP endpoint that receives the Account Balance result."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from pesadesk.serving import listen

    try:
        sock = listen(host, port)
    except OSError as exc:
        fail(listen_error(host, port, exc))
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def receive(request: Request) -> JSONResponse:
        with suppress(ValueError):
            queue.put_nowait(await request.json())
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Accepted"})

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", ws="none")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise DarajaError("the result listener did not start")
            await asyncio.sleep(0.02)
        bound = sock.getsockname()[1]
        yield f"http://{host}:{bound}", queue
    finally:
        server.should_exit = True
        await task
        sock.close()


def balance(
    config: ConfigOption = None,
    listen_host: Annotated[
        str, typer.Option(help="Where to receive the asynchronous result.")
    ] = "127.0.0.1",
    listen_port: PortOption = 0,
    public_url: Annotated[
        str | None,
        typer.Option(help="Public URL that reaches the listener (needed with real Daraja)."),
    ] = None,
    wait: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for the result.")] = 60.0,
) -> None:
    """Ask Daraja for the B2C shortcode's balances and print them."""
    from pesadesk.accounts.daraja import b2c_config
    from pesadesk.daraja.client import DarajaClient

    loaded = settings(config)
    b2c = loaded.payments.b2c
    if not b2c.configured:
        fail("M-Pesa B2C (refunds) not configured: set payments.b2c. Contact admin.", USAGE)
    daraja_config = b2c_config(loaded)

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

    result = asyncio.run(run())
    if not result.result.succeeded:
        message = b2c_message(result.result.result_code, result.result.result_desc)
        fail(f"Daraja refused: {message} (ResultCode {result.result.result_code})")
    _print_balances(result, b2c.shortcode)


def _print_balances(result: AccountBalanceResult, shortcode: str) -> None:
    table = Table(title=f"Balances of shortcode {shortcode}")
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


def register(app: typer.Typer) -> None:
    command(app, "balance")(balance)
