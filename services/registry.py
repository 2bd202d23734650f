"""The registry of domain services: `services.calendar`, `.market`, `.blog`, `.cart`."""

from __future__ import annotations

from config.settings import Settings


def register_domain_services(settings: Settings) -> None:
    """Wire each domain's SQL implementation, or its stub where the deployment lacks it."""
