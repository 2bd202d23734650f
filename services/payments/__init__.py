"""Payments: merchant resolution, checkout references, the reconciler and refunds."""
