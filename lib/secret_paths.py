"""Paths that carry a secret (an order's link: /orders/<id>/<secret>/) are logged without it.

Every long token-like segment of a path (32 characters or more of letters, digits, `-` and
`_`: no word of a route is that long) is logged as `<secret>`, in the app's own request log
and in Hypercorn's access log. Hypercorn writes its access line from the ASGI scope once the
response is sent, so the scope's path is redacted as the response starts: by then the app has
read the request.
"""

from __future__ import annotations

import re

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent, Scope
from quart import Quart

SECRET_SEGMENT = re.compile(r"/[A-Za-z0-9_-]{32,}(?=/|$)")
REDACTED = "/<secret>"


def redacted_path(path: str) -> str:
    """`path` with each secret-looking segment replaced by `<secret>`."""
    return SECRET_SEGMENT.sub(REDACTED, path)


def install_path_redaction(app: Quart) -> None:
    """Redact the scope's path of every response that carries a secret, for the access log."""
    serve = app.asgi_app

    async def redacting(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http" or not SECRET_SEGMENT.search(scope["path"]):
            await serve(scope, receive, send)
            return

        async def send_redacted(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.start":
                path = redacted_path(scope["path"])
                scope["path"] = path
                scope["raw_path"] = path.encode()
            await send(message)

        await serve(scope, receive, send_redacted)

    app.asgi_app = redacting  # type: ignore[method-assign]
