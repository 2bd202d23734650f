"""A benchmark browser keeps what a real one would: its cookies, and the token its pages carry."""

from __future__ import annotations

import httpx

from benchmarks.browser import BrowserCredentials, csrf_token_in, set_cookies


def test_the_token_comes_from_the_body_hx_headers() -> None:
    page = """<body class="x" hx-headers='{"X-CSRF-Token": "abc123"}'><form>
    <input type="hidden" name="csrf_token" value="other"></form></body>"""

    assert csrf_token_in(page) == "abc123"


def test_a_page_without_hx_headers_gives_its_form_token() -> None:
    page = '<form><input type="hidden" name="csrf_token" value="t&amp;1"></form>'

    assert csrf_token_in(page) == "t&1"
    assert csrf_token_in("<p>no form</p>") is None


def test_cookies_set_by_an_answer_are_kept_whatever_their_attributes() -> None:
    response = httpx.Response(
        200,
        headers=[
            ("set-cookie", "__Host-cart_csrf=n1; Path=/; Secure; HttpOnly; SameSite=Lax"),
            ("set-cookie", 'coop_session="s2"; Path=/'),
        ],
    )

    assert set_cookies(response) == {"__Host-cart_csrf": "n1", "coop_session": "s2"}
    browser = BrowserCredentials({"coop_session": "s1"}, "tok").with_cookies(response)
    assert browser.headers(htmx=True) == {
        "Cookie": "coop_session=s2; __Host-cart_csrf=n1",
        "HX-Request": "true",
        "X-CSRF-Token": "tok",
    }
