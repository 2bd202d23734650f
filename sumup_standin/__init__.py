"""A local stand-in for SumUp's Hosted Checkout API, for development and tests."""

from __future__ import annotations

from sumup_standin.app import create_standin_app

__all__ = ["create_standin_app"]
