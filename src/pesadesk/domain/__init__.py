"""Pure business rules: no I/O, no FastAPI, no SQLAlchemy. Where a bug costs real money."""
