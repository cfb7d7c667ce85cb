"""Persistence: models, engine and sessions, migrations."""
