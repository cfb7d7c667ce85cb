"""One Daraja client per set of credentials, so each collection account keeps its own
OAuth token cache; made when first needed, closed together at shutdown."""

from __future__ import annotations

from typing import Any

import httpx

from pesadesk.accounts.registry import CollectionAccount, accounts, named
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.daraja.client import DarajaClient, DarajaConfig


class AccountClients:
    def __init__(
        self, settings: Settings, *, clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None, event_hooks: Any = None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self._clock = clock
        self._transport = transport
        self._hooks = event_hooks
        self._made: dict[DarajaConfig, DarajaClient] = {}

    def _client(self, config: DarajaConfig) -> DarajaClient:
        client = self._made.get(config)
        if client is None:
            client = self._made[config] = DarajaClient(
                config, transport=self._transport, clock=self._clock, event_hooks=self._hooks
            )
        return client

    def account(self, name: str | None = None) -> CollectionAccount:
        return named(self.settings, name)

    def stk(self, name: str | None = None) -> DarajaClient:
        """STK Push and Query for this account (the default one without a name)."""
        return self._client(named(self.settings, name).stk)

    def c2b(self, name: str | None = None) -> DarajaClient:
        """C2B register and simulate, Pull Transactions and Dynamic QR."""
        return self._client(named(self.settings, name).c2b)

    def b2c(self, name: str | None = None) -> DarajaClient | None:
        """The B2C that pays out this account's refunds; None when not configured."""
        config = named(self.settings, name).b2c
        return self._client(config) if config is not None else None

    def every(self) -> list[CollectionAccount]:
        return list(accounts(self.settings))

    async def aclose(self) -> None:
        for client in self._made.values():
            await client.aclose()
        self._made.clear()
