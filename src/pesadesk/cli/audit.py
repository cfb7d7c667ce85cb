"""`pesadesk audit verify`: the audit trail's hash chain."""

from __future__ import annotations

import typer

from pesadesk.cli.app import ConfigOption, command, database, settings

group = typer.Typer(help="The audit trail.", no_args_is_help=True)


@command(group, "verify")
def audit_verify(config: ConfigOption = None) -> None:
    """Check the audit trail's hash chain (exit 1 on a broken link)."""
    from pesadesk.shared import audit

    db = database(settings(config))
    with db.read() as session:
        report = audit.verify(session)
    if not report.ok:
        typer.echo(f"BROKEN at audit entry #{report.broken_at}: {report.reason}")
        raise typer.Exit(1)
    typer.echo(f"audit trail OK: {report.entries} entries, every link intact")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="audit")
