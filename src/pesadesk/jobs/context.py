"""What a periodic job is, and what it is given to run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from pesadesk.accounts.clients import AccountClients
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.daraja.client import DarajaClient
from pesadesk.db.session import Database

if TYPE_CHECKING:
    from pesadesk.pipeline.run import Pipeline


@dataclass(frozen=True)
class JobContext:
    db: Database
    settings: Settings
    clock: Clock
    pipeline: Pipeline
    clients: AccountClients  # Daraja clients per collection account

    @property
    def daraja(self) -> DarajaClient:
        """STK Push and Query of the default account."""
        return self.clients.stk()

    @property
    def c2b(self) -> DarajaClient:
        """C2B register and Pull Transactions of the default account."""
        return self.clients.c2b()

    @property
    def b2c(self) -> DarajaClient | None:
        """The default B2C; None when not configured."""
        return self.clients.b2c()


class PeriodicJob(Protocol):
    """Work the outbox worker does on its passes: every pass (`every` None) or at most
    once per `every`."""

    @property
    def name(self) -> str: ...

    @property
    def every(self) -> timedelta | None: ...

    async def run(self, ctx: JobContext) -> object: ...
