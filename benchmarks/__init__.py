"""Benchmarks: run by hand (`python -m benchmarks.ingest`), never by pytest."""
