"""Protective headers on every answer: a strict Content-Security-Policy, no framing, no sniffing.

The pages load only the committed HTMX and CSS from this origin, with no inline script or
style, so the policy allows `'self'` and nothing else. Forms post here, and a checkout form is
then redirected (303) to SumUp's hosted payment page, which Chromium checks against
`form-action` too: that one other origin is allowed there. HSTS is sent when the service runs
behind HTTPS (the cookies are Secure).

Every answer that does not say otherwise is `Cache-Control: private, no-store`: the pages hold
the shopper's cart, orders and CSRF token, and the JSON and fragments another app's shopper.
Static files keep their own (public, a year).
"""

from __future__ import annotations

from config.settings import Settings

HSTS = "max-age=31536000; includeSubDomains"
NOT_CACHED = "private, no-store"


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


def security_headers(settings: Settings) -> tuple[tuple[bytes, bytes], ...]:
    """The headers for every response, as the ASGI bytes the pipeline adds (lib/pipeline.py)
    as the response starts: made once, since werkzeug's header methods (a case-insensitive
    search and a validation per header) cost more than the badge's query."""
    headers = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cache-Control": NOT_CACHED,
    }
    if settings.cookies_secure:
        headers["Strict-Transport-Security"] = HSTS
    return tuple((name.lower().encode(), value.encode()) for name, value in headers.items())
