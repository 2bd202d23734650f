"""Blueprint: the internal API's OpenAPI document at /internal/openapi.json. Importing it
registers the route."""

from bp.openapi import routes  # noqa: F401  (adds its route)
from bp.openapi.blueprint import bp

__all__ = ["bp"]
