"""`pesadesk payments export`: payments to stdout."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from pesadesk.cli.app import USAGE, ConfigOption, command, database, fail, settings
from pesadesk.core.errors import InvalidInput

group = typer.Typer(help="Payments.", no_args_is_help=True)


class Format(StrEnum):
    csv = "csv"
    json = "json"


@command(group, "export")
def payments_export(
    format: Annotated[Format, typer.Option("--format", help="csv or json")] = Format.csv,
    start: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD or ISO time")] = None,
    end: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD (inclusive)")] = None,
    config: ConfigOption = None,
) -> None:
    """Write payments to stdout, newest first."""
    from pesadesk.api.filters import parse_bound
    from pesadesk.payments import export as payment_export

    def bound(option: str, value: str | None, *, end: bool) -> datetime | None:
        try:
            return parse_bound(value, end=end)
        except InvalidInput as exc:
            fail(f"{option}: {exc.message}", USAGE)

    query = payment_export.filtered(
        start=bound("--from", start, end=False), end=bound("--to", end, end=True)
    )
    db = database(settings(config))
    for piece in payment_export.stream(db, query, format.value):
        sys.stdout.write(piece)
    if format is Format.json:
        sys.stdout.write("\n")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="payments")
