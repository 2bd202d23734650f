"""Session ids the cart mints: a random part and its signature, one opaque cookie value.

A page view by a visitor without a session hands out such an id without writing Redis; a later
request proves the cart minted it by its signature, so that the cart never stores an id a
client chose. The id uses only url-safe base64 letters, like the account app's ids, and stays
an opaque value to the other coop apps.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

RANDOM_BYTES = 24
SIGNATURE_BYTES = 24
RANDOM_CHARS = 32  # 24 bytes in url-safe base64, without padding
SESSION_ID_LENGTH = 64
# Keeps these signatures apart from anything else signed with the same key.
CONTEXT = b"coop-cart-session-id:"


def _signature(secret_key: str, random_part: str) -> str:
    digest = hmac.new(secret_key.encode(), CONTEXT + random_part.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:SIGNATURE_BYTES]).decode()


def mint_session_id(secret_key: str) -> str:
    """A new session id carrying the cart's signature."""
    random_part = secrets.token_urlsafe(RANDOM_BYTES)
    return random_part + _signature(secret_key, random_part)


def is_minted_here(secret_key: str, value: str) -> bool:
    """Whether `value` is a session id this service minted (compared in constant time)."""
    if len(value) != SESSION_ID_LENGTH or not value.isascii():
        return False
    random_part, signature = value[:RANDOM_CHARS], value[RANDOM_CHARS:]
    return hmac.compare_digest(signature.encode(), _signature(secret_key, random_part).encode())
