"""Versioned static URLs, so assets can be cached for a year and still change on deploy."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"


@cache
def _digest(path: str) -> str:
    file = STATIC_ROOT / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12] if file.is_file() else "missing"


def asset_url(path: str) -> str:
    """`/static/<path>?v=<content hash>`."""
    return f"/static/{path}?v={_digest(path)}"
