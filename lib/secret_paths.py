"""Paths that carry a secret (an order's link: /orders/<id>/<secret>/) are logged without it.

Every long token-like segment of a path (32 characters or more of letters, digits, `-` and
`_`: no word of a route is that long) is logged as `<secret>`, in the app's own request log
and in Hypercorn's access log. Hypercorn writes its access line from the ASGI scope once the
response is sent, so the scope's path is redacted as the response starts: by then the app has
read the request (lib/pipeline.py).
"""

from __future__ import annotations

import re

SECRET_SEGMENT = re.compile(r"/[A-Za-z0-9_-]{32,}(?=/|$)")
REDACTED = "/<secret>"


def redacted_path(path: str) -> str:
    """`path` with each secret-looking segment replaced by `<secret>`."""
    return SECRET_SEGMENT.sub(REDACTED, path)
