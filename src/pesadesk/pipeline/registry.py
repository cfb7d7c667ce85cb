"""The one handler for each kind of message. Every callback, re-run, recovery pass,
Pull Transactions find and imported statement row is applied by the handler here."""

from __future__ import annotations

from typing import Any

from pesadesk.b2c import results as b2c
from pesadesk.c2b import handlers as c2b
from pesadesk.core.statuses import WebhookSource
from pesadesk.pipeline.contract import Handler
from pesadesk.stk import callback as stk

HANDLERS: dict[WebhookSource, Handler[Any]] = {
    WebhookSource.C2B_CONFIRMATION: c2b.confirmation,
    WebhookSource.C2B_VALIDATION: c2b.validation,
    WebhookSource.STK: stk.handler,
    WebhookSource.B2C_RESULT: b2c.result,
    WebhookSource.B2C_TIMEOUT: b2c.timeout,
}
