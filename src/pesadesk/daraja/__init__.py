"""Talking to Safaricom's Daraja API: client, callback parsers, result codes, credentials.

Nothing here imports FastAPI, SQLAlchemy or the services: it is the outbound edge.
"""

from pesadesk.daraja.client import DarajaClient, DarajaConfig
from pesadesk.daraja.errors import DarajaError

__all__ = ["DarajaClient", "DarajaConfig", "DarajaError"]
