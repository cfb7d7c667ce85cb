"""Errors of events and webhook endpoints (they join the tree in `core.errors`)."""

from __future__ import annotations

from pesadesk.core.errors import Conflict, InvalidInput, NotFound


class EventNotFound(NotFound):
    """Raised when no event has that id."""

    code = "event_not_found"


class EndpointNotFound(NotFound):
    """Raised when no webhook endpoint has that id."""

    code = "webhook_endpoint_not_found"


class InvalidEndpoint(InvalidInput):
    """Raised when a webhook endpoint's URL or event types are not acceptable."""

    code = "invalid_webhook_endpoint"


class NoEndpoint(Conflict):
    """Raised when a redelivery has no enabled endpoint that takes the event."""

    code = "no_webhook_endpoint"
