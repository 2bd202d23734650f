"""The shoppers' lean client answers as httpx's does for their calls: redirects not followed,
no cookie kept, every `Set-Cookie` read, a path joined to the base URL, a whole body read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from benchmarks.browser import BrowserCredentials, set_cookies
from benchmarks.lean_http import LeanClient

ANSWER = (
    b"HTTP/1.1 303 See Other\r\n"
    b"Location: /next/\r\n"
    b"Set-Cookie: __Host-cart_csrf=n1; Path=/; Secure; HttpOnly\r\n"
    b"Set-Cookie: coop_session=s2; Path=/\r\n"
    b"Content-Length: 5\r\n\r\nhello"
)


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server answering every request with ANSWER, keeping each request's head and body."""
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                seen.append(head + await reader.readexactly(length))
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    listening = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield f"http://127.0.0.1:{port}", seen


async def test_a_redirect_is_answered_not_followed_and_no_cookie_is_kept(
    server: tuple[str, list[bytes]],
) -> None:
    base_url, seen = server
    async with LeanClient(base_url) as http:
        first = await http.post(
            "/pay/", headers={"Cookie": "coop_session=s1"}, content=b"quantity=1"
        )
        again = await http.get(f"{base_url}/again/")

    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == "/next/"
    assert first.text == "hello"
    assert set_cookies(first) == {"__Host-cart_csrf": "n1", "coop_session": "s2"}
    browser = BrowserCredentials({"coop_session": "s1"}, "tok").with_cookies(first)
    assert browser.cookie_header() == "coop_session=s2; __Host-cart_csrf=n1"
    assert len(seen) == 2
    assert seen[0].startswith(b"POST /pay/ HTTP/1.1") and seen[0].endswith(b"quantity=1")
    assert b"coop_session=s1" in seen[0]
    # The cookies the first answer set were not sent back by the client itself.
    assert seen[1].startswith(b"GET /again/ HTTP/1.1") and b"Cookie" not in seen[1]
