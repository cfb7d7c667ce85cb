"""`pesadesk ledger verify` (and, later, `ledger export`, CONTRACT §10)."""

from __future__ import annotations

import typer
from rich.table import Table

from pesadesk.cli.app import ConfigOption, command, database, out, settings

group = typer.Typer(help="The ledger.", no_args_is_help=True)


@command(group, "verify")
def ledger_verify(config: ConfigOption = None) -> None:
    """Prove every balance and invoice against the ledger rows (exit 1 on a difference)."""
    from pesadesk.ledger.verify import verify

    db = database(settings(config))
    with db.read() as session:
        report = verify(session)
    table = Table("checked", "count")
    for label, count in (
        ("journals", report.journals),
        ("customers", report.customers),
        ("invoices", report.invoices),
        ("payments", report.payments),
    ):
        table.add_row(label, str(count))
    out.print(table)
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"DIFFERENCE: {problem}")
        raise typer.Exit(1)
    typer.echo("ledger OK: every balance agrees with the ledger rows")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="ledger")
