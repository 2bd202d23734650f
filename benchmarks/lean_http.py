"""The paid-orders shoppers' HTTP client: aiohttp, under the few calls a browser's steps make.

The shoppers share the machine's two cores with the service they measure, its stand-in for
SumUp and PostgreSQL. A request through httpx cost about 400 µs of CPU on this machine,
through aiohttp about 60 (a loop of each against one local server, the server's work
included); at seven requests an order, httpx's shoppers took about a third of a core from
the service in the paid-orders run.

`LeanClient` answers `get` and `post` as httpx's client does for these calls (no redirects
followed, no cookies kept: every request names its browser's), with the whole body read, so
that `browser.py` and `paid_orders.py` read either client's answers alike (`HttpClient`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDictProxy


class Headers(Protocol):
    def get_list(self, key: str) -> list[str]: ...

    def __getitem__(self, key: str) -> str: ...


class HttpResponse(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Headers: ...


class HttpClient(Protocol):
    """What the shoppers call: httpx's AsyncClient or a LeanClient."""

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any: ...

    async def post(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> Any: ...


class LeanHeaders:
    """A response's headers, read as httpx's are."""

    __slots__ = ("_headers",)

    def __init__(self, headers: CIMultiDictProxy[str]) -> None:
        self._headers = headers

    def get_list(self, key: str) -> list[str]:
        return self._headers.getall(key, [])

    def __getitem__(self, key: str) -> str:
        return self._headers[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._headers.get(key, default)


@dataclass(frozen=True, slots=True)
class LeanResponse:
    """A whole answer: status, headers and body."""

    status_code: int
    headers: LeanHeaders
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise aiohttp.ClientResponseError(
                None,  # type: ignore[arg-type]
                (),
                status=self.status_code,
                message=self.text[:200],
            )


class LeanClient:
    """A pool of kept-alive connections; `base_url` prefixes paths that start with "/"."""

    def __init__(self, base_url: str = "", *, timeout: float = 30.0, pool: int = 64) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._pool = pool
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LeanClient:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool, limit_per_host=self._pool),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=self._timeout,
            auto_decompress=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> LeanResponse:
        return await self._send("GET", url, headers, None)

    async def post(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> LeanResponse:
        return await self._send("POST", url, headers, content)

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str] | None, body: bytes | None
    ) -> LeanResponse:
        assert self._session is not None, "use the client in `async with`"
        if url.startswith("/"):
            url = self.base_url + url
        async with self._session.request(
            method, url, headers=headers, data=body, allow_redirects=False
        ) as response:
            content = await response.read()
            return LeanResponse(response.status, LeanHeaders(response.headers), content)
