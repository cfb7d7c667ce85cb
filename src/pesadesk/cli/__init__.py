"""The `pesadesk` command (Typer), a module per command group.

`app` is the root Typer (`from pesadesk.cli import app` for CliRunner tests), `main` the
console script. Shared helpers (settings, database, one-line errors) are in `cli.app`.
"""

from pesadesk.cli import (
    audit,
    balance,
    c2b,
    credentials,
    db,
    demo,
    emulator,
    keys,
    ledger,
    payments,
    reconcile,
    serve,
    webhooks,
)
from pesadesk.cli.app import app, main

# The order `pesadesk --help` lists them in.
for _group in (
    serve,
    demo,
    emulator,
    db,
    keys,
    c2b,
    balance,
    credentials,
    reconcile,
    payments,
    webhooks,
    ledger,
    audit,
):
    _group.register(app)

__all__ = ["app", "main"]
