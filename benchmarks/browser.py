"""What a shopper's browser holds: the shared session cookie, the cart's cookies, a CSRF token.

`browser_credentials` is the one place that knows how a signed-in browser gets its CSRF token: it
reads it from a rendered page, as HTMX does (`<body hx-headers='{"X-CSRF-Token": "…"}'>`, or a
form's `csrf_token` field), so it keeps working however the service makes the token.

The HTTP client never keeps cookies itself: every request names its browser's cookies, so that
thousands of browsers can share one connection pool.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy

import httpx

from benchmarks.lean_http import HttpClient, HttpResponse

SESSION_PREFIX = "session:"
# Session ids the benchmark writes start with this, so that it can remove exactly its own.
SID_PREFIX = "bench-"
HX_HEADERS = re.compile(r"hx-headers='([^']*)'")
FORM_TOKEN = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
TOKEN_HEADER = "X-CSRF-Token"  # noqa: S105  (a header name)


class BrowserError(RuntimeError):
    """The service did not answer a shopper's step as a browser expects."""


@dataclass(frozen=True)
class BrowserCredentials:
    """One signed-in browser: its cookies (session first) and the token its pages carry."""

    cookies: dict[str, str] = field(default_factory=dict)
    csrf_token: str = ""

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def headers(self, *, htmx: bool = False) -> dict[str, str]:
        """The headers of a request from this browser (an HTMX one sends the token too)."""
        headers = {"Cookie": self.cookie_header()}
        if htmx:
            headers |= {"HX-Request": "true", TOKEN_HEADER: self.csrf_token}
        return headers

    def with_cookies(self, response: HttpResponse) -> BrowserCredentials:
        """These credentials plus whatever cookies `response` set."""
        return BrowserCredentials({**self.cookies, **set_cookies(response)}, self.csrf_token)


def new_sid() -> str:
    """A fresh shared-session id, as the account app mints them."""
    return SID_PREFIX + secrets.token_urlsafe(24)


def session_record(user_id: int) -> str:
    """What the account app writes under `session:<id>` when a user signs in."""
    return json.dumps({"user_id": user_id})


def stateless_client(
    base_url: str = "", *, timeout: float = 30.0, pool: int = 64
) -> httpx.AsyncClient:
    """An HTTP client that never stores cookies (each request carries its browser's)."""
    client = httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
    )
    client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return client


def set_cookies(response: HttpResponse) -> dict[str, str]:
    """Name → value of every cookie a response sets (attributes such as Secure ignored)."""
    cookies: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        pair = header.split(";", 1)[0]
        name, sep, value = pair.partition("=")
        if sep and name.strip():
            cookies[name.strip()] = value.strip().strip('"')
    return cookies


def csrf_token_in(page: str) -> str | None:
    """The CSRF token a rendered page gives HTMX (body hx-headers) or its forms."""
    for match in HX_HEADERS.finditer(page):
        try:
            headers = json.loads(html.unescape(match.group(1)))
        except ValueError:
            continue
        if isinstance(headers, dict) and isinstance(headers.get(TOKEN_HEADER), str):
            return str(headers[TOKEN_HEADER])
    form = FORM_TOKEN.search(page)
    return html.unescape(form.group(1)) if form else None


async def browser_credentials(
    http: HttpClient, *, cookie_name: str, sid: str, path: str = "/"
) -> BrowserCredentials:
    """Open a page with the session cookie and keep what a browser would: cookies and token."""
    start = BrowserCredentials({cookie_name: sid})
    response = await http.get(path, headers=start.headers())
    if response.status_code != 200:
        raise BrowserError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    token = csrf_token_in(response.text)
    if token is None:
        raise BrowserError(f"GET {path} rendered no CSRF token")
    return BrowserCredentials({**start.cookies, **set_cookies(response)}, token)
