"""`pesadesk webhooks reprocess`: re-running logged callbacks that failed."""

from __future__ import annotations

from typing import Annotated

import typer

from pesadesk.cli.app import USAGE, ConfigOption, command, database, err, fail, settings
from pesadesk.core.clock import SystemClock
from pesadesk.core.errors import PesadeskError

group = typer.Typer(help="Logged callbacks.", no_args_is_help=True)


@command(group, "reprocess")
def webhooks_reprocess(
    log_id: Annotated[int | None, typer.Option("--id", min=1, help="one logged callback")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="every failed one")] = False,
    config: ConfigOption = None,
) -> None:
    """Re-run logged callbacks that failed; a re-run never credits twice."""
    from pesadesk.pipeline.rerun import failed_log_ids, reprocess
    from pesadesk.pipeline.run import Pipeline

    if (log_id is None) == (not all_failed):
        fail("give --id N or --all-failed (one of them)", USAGE)
    loaded = settings(config)
    db = database(loaded)
    ids = [log_id] if log_id is not None else failed_log_ids(db)
    pipeline = Pipeline(db, loaded, SystemClock())
    failures = 0
    for entry_id in ids:
        try:
            done = reprocess(pipeline, log_id=entry_id).outcome is not None
        except PesadeskError as exc:
            err.print(f"#{entry_id}: {exc.message}", markup=False)
            failures += 1
            continue
        typer.echo(f"#{entry_id}: {'processed' if done else 'already processed or still failing'}")
    typer.echo(f"{len(ids)} callback(s) looked at")
    if failures:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="webhooks")
