"""`pesadesk c2b register | simulate | pull`: customers paying the Paybill or till."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any, Literal

import typer

from pesadesk.cli.app import USAGE, ConfigOption, command, database, fail, out, settings
from pesadesk.core.clock import SystemClock
from pesadesk.core.errors import PesadeskError
from pesadesk.core.money import format_kes, positive_cents

group = typer.Typer(
    help="C2B (customers paying the Paybill/till): register URLs, simulate, pull.",
    no_args_is_help=True,
)


class RegisterVersion(StrEnum):
    v1 = "v1"
    v2 = "v2"


class ResponseType(StrEnum):
    Completed = "Completed"
    Cancelled = "Cancelled"


AccountOption = Annotated[
    str | None, typer.Option("--account", help="a collection account's name (default: default)")
]


@command(group, "register")
def c2b_register(
    config: ConfigOption = None,
    account: AccountOption = None,
    version: Annotated[
        RegisterVersion | None,
        typer.Option(
            help="v1: hashed MSISDN in callbacks; v2: masked MSISDN, falling back to v1 when "
            "Daraja says the app lacks the product (default: the account's "
            "c2b_register_version; v1 for the default account)."
        ),
    ] = None,
    response_type: Annotated[
        ResponseType, typer.Option(help="What M-Pesa does when validation is unreachable.")
    ] = ResponseType.Completed,
) -> None:
    """Register a collection account's C2B validation and confirmation URLs with Daraja."""
    from pesadesk.accounts.registry import named
    from pesadesk.accounts.urls import with_webhook_token
    from pesadesk.daraja.client import DarajaClient

    loaded = settings(config)
    chosen = named(loaded, account)
    c2b = loaded.payments.c2b
    confirmation = with_webhook_token(c2b.confirmation_url, loaded)
    validation = with_webhook_token(c2b.validation_url, loaded)
    wanted = version.value if version is not None else chosen.register_version
    on_miss: Literal["Completed", "Cancelled"] = (
        "Cancelled" if response_type is ResponseType.Cancelled else "Completed"
    )

    async def run() -> Any:
        async with DarajaClient(chosen.c2b) as daraja:
            return await daraja.c2b_register_with_fallback(
                confirmation_url=confirmation, validation_url=validation,
                shortcode=chosen.shortcode, version="v2" if wanted == "v2" else "v1",
                response_type=on_miss,
            )  # fmt: skip

    done = asyncio.run(run())
    fell_back = (
        " (v2 refused: the app lacks the product; registered on v1)" if done.fell_back else ""
    )
    out.print(
        f"Registered C2B URLs ({done.version}) for {chosen.name}, shortcode {chosen.shortcode}: "
        f"{done.answer.response_description}{fell_back}",
        markup=False,
    )
    out.print(f"  confirmation: {c2b.confirmation_url}", markup=False)
    out.print(f"  validation:   {c2b.validation_url}", markup=False)


@command(group, "simulate")
def c2b_simulate(
    amount: Annotated[str, typer.Option(help="Whole shillings, e.g. 500.")],
    msisdn: Annotated[str, typer.Option(help="The paying phone, e.g. 254708374149.")],
    ref: Annotated[str, typer.Option(help="BillRefNumber: the account number typed.")],
    config: ConfigOption = None,
    account: AccountOption = None,
    till: Annotated[bool, typer.Option(help="Buy Goods (till) instead of Pay Bill.")] = False,
) -> None:
    """Ask Daraja (sandbox or emulator) to simulate a customer paying the Paybill."""
    from pesadesk.accounts.registry import named
    from pesadesk.daraja.client import DarajaClient

    loaded = settings(config)
    chosen = named(loaded, account)
    try:
        cents = positive_cents(amount)
    except PesadeskError as exc:
        fail(f"--amount: {exc.message}", USAGE)
    till = till or chosen.kind == "till"

    async def run() -> Any:
        async with DarajaClient(chosen.c2b) as daraja:
            return await daraja.c2b_simulate(
                amount_cents=cents,
                msisdn=msisdn,
                bill_ref_number=None if till else ref,
                command_id="CustomerBuyGoodsOnline" if till else "CustomerPayBillOnline",
            )

    answer = asyncio.run(run())
    out.print(
        f"Simulated {format_kes(cents)} from {msisdn} to {chosen.shortcode} "
        f"ref {ref!r}: {answer.response_description} ({answer.originator_conversation_id})",
        markup=False,
    )


@command(group, "pull")
def c2b_pull(
    hours: Annotated[
        float, typer.Option(min=0.01, max=48, help="how far back (Daraja keeps 48 h)")
    ] = 24,
    config: ConfigOption = None,
    account: AccountOption = None,
) -> None:
    """Recover C2B payments that never arrived as callbacks (Pull Transactions)."""
    from pesadesk.accounts.registry import named
    from pesadesk.c2b.pull import pull_missed
    from pesadesk.daraja.client import DarajaClient
    from pesadesk.pipeline.run import Pipeline

    loaded = settings(config)
    chosen = named(loaded, account)
    db = database(loaded)

    async def run() -> None:
        async with DarajaClient(chosen.c2b) as daraja:
            pipeline = Pipeline(db, loaded, SystemClock())
            result = await pull_missed(
                pipeline=pipeline, daraja=daraja, hours=hours, shortcode=chosen.shortcode
            )
        typer.echo(f"{result.seen} transaction(s) seen, {len(result.recorded)} recovered")
        for trans_id in result.recorded:
            typer.echo(f"recovered {trans_id}")

    asyncio.run(run())


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="c2b")
