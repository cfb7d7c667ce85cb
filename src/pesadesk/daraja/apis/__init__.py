"""Daraja's APIs, one mixin each, over `DarajaBase`; `DarajaClient` combines them."""
