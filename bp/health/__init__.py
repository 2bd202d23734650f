"""Blueprint: liveness and readiness probes, and the operators' metrics. Importing it registers
the routes."""

from bp.health import routes  # noqa: F401  (adds its routes)
from bp.health.blueprint import bp

__all__ = ["bp"]
