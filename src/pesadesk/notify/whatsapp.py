"""WhatsApp Cloud API: one text message per call. Retries belong to the outbox."""

from __future__ import annotations

import httpx

from pesadesk.config import WhatsAppSettings
from pesadesk.core.errors import PesadeskError
from pesadesk.core.phone import normalize_phone


class WhatsAppError(PesadeskError):
    """Raised when WhatsApp did not accept a message."""

    code = "whatsapp_error"


class WhatsAppClient:
    def __init__(
        self,
        settings: WhatsAppSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self._http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"), transport=transport, timeout=timeout
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send_text(self, *, to: str, body: str) -> str:
        """Send `body` to `to`; returns WhatsApp's message id."""
        token = self.settings.access_token.get_secret_value()
        answer = await self._http.post(
            f"/{self.settings.phone_number_id}/messages",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": normalize_phone(to),
                "type": "text",
                "text": {"preview_url": False, "body": body},
            },
        )
        if answer.status_code >= 300:
            raise WhatsAppError(f"WhatsApp answered HTTP {answer.status_code}")
        try:
            messages = answer.json().get("messages") or [{}]
            return str(messages[0].get("id", ""))
        except (ValueError, AttributeError):
            return ""
