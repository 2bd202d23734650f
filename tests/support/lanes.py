"""Asking the app with and without its lanes (lib/pipeline.py), and seeing which answered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from quart import Quart, request_started

from lib.pipeline import LANES_EXTENSION, Lanes


@contextmanager
def framework_requests(app: Quart) -> Iterator[list[str]]:
    """The paths of the requests the framework handled (a lane's never reach it)."""
    seen: list[str] = []

    async def started(sender: Quart, **extra: Any) -> None:
        from quart import request

        seen.append(request.path)

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


@contextmanager
def without_lanes(app: Quart) -> Iterator[None]:
    """Every request answered by the framework, as if the app had no lanes."""
    lanes: Lanes = app.extensions[LANES_EXTENSION]
    kept, shaped, posts = dict(lanes.routes), list(lanes.shaped), list(lanes.posts)
    lanes.routes.clear()
    lanes.shaped.clear()
    lanes.posts.clear()
    try:
        yield
    finally:
        lanes.routes.update(kept)
        lanes.shaped.extend(shaped)
        lanes.posts.extend(posts)


async def get(app: Quart, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (named in lower case) but the request's id, and body; sent with one
    request id throughout, so that an error page (which shows it) reads the same."""
    response = await app.test_client().get(path, headers={"X-Request-ID": "trace", **headers})
    kept = {name.lower(): value for name, value in response.headers.items()}
    kept.pop("x-request-id")
    return response.status_code, kept, await response.get_data(as_text=False)
