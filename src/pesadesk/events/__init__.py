"""Domain events, stored in the transaction that changed the money and handed to the
consumers that run in it (admin notices now, signed webhooks next)."""
