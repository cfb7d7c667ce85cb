"""Use cases: one unit of work each, keyword-only arguments, no HTTP knowledge."""
