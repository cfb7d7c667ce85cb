"""Pull Transactions: what the shortcode received, asked for (last 48 hours only)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from pesadesk.core.clock import to_eat
from pesadesk.core.phone import normalize_phone
from pesadesk.daraja.base import DarajaBase, required
from pesadesk.daraja.schemas import (
    PullQueryRequest,
    PullQueryResponse,
    PullRegisterRequest,
    PullRegisterResponse,
)

__all__ = ["PULL_TIME_FORMAT", "PullApi"]

PULL_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


class PullApi(DarajaBase):
    """Pull Transactions register and query."""

    async def pull_register(
        self, *, nominated_number: str, callback_url: str, shortcode: str | None = None
    ) -> PullRegisterResponse:
        """Register the shortcode for Pull Transactions (once per shortcode)."""
        request = PullRegisterRequest(
            short_code=required(shortcode or self.config.shortcode, "shortcode"),
            nominated_number=normalize_phone(nominated_number),
            callback_url=callback_url,
        )
        path = "/pulltransactions/v1/register"
        response = await self._post(path, request, money=False)
        return self._parse(PullRegisterResponse, response, path)

    async def pull_query(
        self,
        *,
        start: datetime,
        end: datetime,
        offset: int = 0,
        shortcode: str | None = None,
    ) -> PullQueryResponse:
        """What the shortcode received between `start` and `end` (last 48 h only)."""
        request = PullQueryRequest(
            short_code=required(shortcode or self.config.shortcode, "shortcode"),
            start_date=to_eat(start).strftime(PULL_TIME_FORMAT),
            end_date=to_eat(end).strftime(PULL_TIME_FORMAT),
            offset_value=str(offset),
        )
        path = "/pulltransactions/v1/query"
        response = await self._post(path, request, money=False)
        return self._parse(PullQueryResponse, response, path)
