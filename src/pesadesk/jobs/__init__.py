"""Work that runs after commits: the outbox worker and its periodic sweeps."""
