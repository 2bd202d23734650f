"""Protective headers on every answer: a strict Content-Security-Policy, no framing, no sniffing.

The pages load only the committed HTMX and CSS from this origin, with no inline script or
style, so the policy allows `'self'` and nothing else. Forms post here, and a checkout form is
then redirected (303) to SumUp's hosted payment page, which Chromium checks against
`form-action` too: that one other origin is allowed there. HSTS is sent when the service runs
behind HTTPS (the cookies are Secure).
"""

from __future__ import annotations

from quart import Quart, Response

from config.settings import Settings

HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(settings: Settings) -> str:
    """The policy for every page of this service."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        # The favicon is an empty data: URL.
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": f"'self' {settings.hosted_checkout_origin}",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def install_security_headers(app: Quart, settings: Settings) -> None:
    """Add the headers to every response (a view's own value of one wins)."""
    headers = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    if settings.cookies_secure:
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    async def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
