"""HTTP: routes stay thin (parse, call a service, shape the answer)."""
