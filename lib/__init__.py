"""Framework glue, knowing nothing of the cart's domains: databases, Redis, sessions, CSRF, the
internal token, errors and their pages, HTMX answers, money, ids and background jobs.

Modules that need settings or clients take them when `create_app` installs them.
"""
