"""Sends the emulator's asynchronous callbacks for real, over HTTP, like Safaricom does.

Each callback is a background task, so the API answer goes out first. Delivery is
attempted once and never retried (Safaricom does not retry STK callbacks); every attempt
is recorded in the state so tests and people can see what was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal
from typing import Any

import httpx

from pesadesk.emulator.state import Delivery, EmulatorState

__all__ = ["Dispatcher", "dumps"]

CALLBACK_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        # Output only: JSON has no decimal type; Daraja itself sends 1.00 as a number.
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=_default, separators=(",", ":")).encode()


class Dispatcher:
    """Owns the HTTP client and the background tasks of one running emulator."""

    def __init__(
        self,
        state: EmulatorState,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.state = state
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(self.state.config.callback_timeout_seconds),
                follow_redirects=False,
            )
        return self._client

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background; the task is kept until it finishes."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def later(self, delay: float, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` after `delay` seconds, in the background, unless the state was reset."""
        generation = self.state.generation

        async def run() -> None:
            if delay > 0:
                await asyncio.sleep(delay)
            if self.state.generation == generation:
                await action()

        self.spawn(run())

    async def post(
        self,
        kind: str,
        url: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        """POST one callback and record what happened; never raises for network errors."""
        delivery = Delivery(kind=kind, url=url, payload=payload, at=self.state.now())
        try:
            response = await self._http().post(
                url, content=dumps(payload), headers={**CALLBACK_HEADERS, **(headers or {})}
            )
        except httpx.HTTPError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        else:
            delivery.status_code = response.status_code
            try:
                delivery.response = response.json()
            except ValueError:
                delivery.response = response.text[:500]
        self.state.record_delivery(delivery)
        return delivery

    async def drain(self, seconds: float = 5.0) -> None:
        """Wait for the background tasks that are already running (tests, shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=seconds)

    async def aclose(self) -> None:
        """Cancel what is still waiting and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
