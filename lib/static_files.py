"""The static files (built CSS and HTMX): a name the file system cannot take is simply not found.

Quart's own view lets the operating system's error through (a 300-character name is
`OSError: File name too long`, a 500); this one answers 404 first. Static files are exempt
from rate limits: they are few, small and cached for a year.
"""

from __future__ import annotations

from quart import Quart, Response
from quart_rate_limiter import rate_exempt

from lib.error_codes import ErrorCode
from lib.errors import NotFound

# The common limits of file systems: a name of 255 bytes, a path of 1024.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024
STATIC_ENDPOINT = "static"


def install_static_files(app: Quart) -> None:
    """Answer the static route with the checks above."""
    serve = app.send_static_file

    @rate_exempt
    async def static_file(filename: str) -> Response:
        encoded = filename.encode("utf-8", "surrogateescape")
        too_long = len(encoded) > MAX_PATH_BYTES or any(
            len(part) > MAX_NAME_BYTES for part in encoded.split(b"/")
        )
        if too_long or "\x00" in filename:
            raise NotFound(ErrorCode.FILE_NOT_FOUND)
        try:
            return await serve(filename)
        except OSError as error:
            raise NotFound(ErrorCode.FILE_NOT_FOUND) from error

    if STATIC_ENDPOINT in app.view_functions:
        app.view_functions[STATIC_ENDPOINT] = static_file
