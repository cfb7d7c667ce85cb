"""What every Daraja API family of the emulator shares: its routes, state and answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pesadesk.emulator.config import EmulatorConfig
from pesadesk.emulator.dispatcher import Dispatcher
from pesadesk.emulator.state import EmulatorState
from pesadesk.emulator.validation import TokenStyle

__all__ = ["ACCEPTED", "ORG_NAME", "Api", "ApiGroup", "Handler", "accepted"]

ORG_NAME: Final = "Emulator Org"
ACCEPTED: Final = "Accept the service request successfully."

Handler = Callable[[Request, dict[str, Any]], Awaitable[Response]]


@dataclass(frozen=True)
class Api:
    """One Daraja path: its method, its handler and how it refuses a bad token (None: no
    token, as for OAuth)."""

    method: str
    handler: Handler
    token: TokenStyle | None


class ApiGroup:
    """One family of Daraja APIs over the emulator's state, sending callbacks with the
    dispatcher."""

    def __init__(self, state: EmulatorState, dispatcher: Dispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config

    def apis(self) -> dict[str, Api]:
        """The paths this family serves."""
        raise NotImplementedError

    def send_later(self, kind: str, url: str, payload: dict[str, Any]) -> None:
        """POST one result after the configured callback delay."""

        async def send() -> None:
            await self.dispatcher.post(kind, url, payload)

        self.dispatcher.later(self.config.callback_delay_seconds, send)


def accepted(originator: str, conversation: str) -> JSONResponse:
    """The synchronous answer of the initiator APIs (B2C, status, balance, reversal)."""
    return JSONResponse(
        {
            "ConversationID": conversation,
            "OriginatorConversationID": originator,
            "ResponseCode": "0",
            "ResponseDescription": ACCEPTED,
        }
    )
