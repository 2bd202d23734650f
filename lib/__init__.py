"""Framework glue: databases, Redis, sessions, CSRF, errors, HTMX helpers."""
