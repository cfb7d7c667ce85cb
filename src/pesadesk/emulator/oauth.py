"""OAuth: `GET /oauth/v1/generate?grant_type=client_credentials` with HTTP Basic."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pesadesk.emulator.base import Api, ApiGroup
from pesadesk.emulator.validation import Reject

__all__ = ["OAuthApi"]


class OAuthApi(ApiGroup):
    """Any consumer key and secret get a token; the Basic header must be well formed."""

    def apis(self) -> dict[str, Api]:
        return {"/oauth/v1/generate": Api("GET", self.generate, None)}

    async def generate(self, request: Request, _: dict[str, Any]) -> Response:
        if request.query_params.get("grant_type") != "client_credentials":
            raise Reject(400, "400.008.02", "Invalid grant type passed")
        scheme, _sep, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise Reject(400, "400.008.01", "Invalid Authentication passed")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Reject(400, "400.008.01", "Invalid Authentication passed") from None
        key, sep, secret = decoded.partition(":")
        if not sep or not key or not secret:
            raise Reject(400, "400.008.01", "Invalid Authentication passed")
        ttl = self.config.token_ttl_seconds
        return JSONResponse(
            {
                "access_token": self.state.issue_token(),
                "expires_in": str(ttl) if self.config.expires_in_as_string else ttl,
            }
        )
