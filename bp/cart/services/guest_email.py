"""The address a guest gives at checkout: checked here, kept on the order, mailed to.

A signed-in shopper's address is the account domain's and is never asked for. The check is
email-validator's syntax check (no DNS lookup: a checkout must not wait on a resolver), with
SMTPUTF8 refused so that every address kept can be written to by any mail server.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from lib.error_codes import ErrorCode
from lib.errors import FieldError
from services.contracts.dtos import CartIdentity

# The form field, and the id of its input on the cart pages (where its error is shown).
EMAIL_FIELD = "email"
EMAIL_INPUT_ID = "checkout-email"
# RFC 5321's limit on a path; the column holds 320.
MAX_EMAIL_LENGTH = 254


def checked_email(value: str) -> str:
    """The address as it will be kept (domain lower-cased, IDN as ASCII); FieldError when it
    is not one."""
    typed = value.strip()
    if not typed:
        raise _refused(ErrorCode.EMAIL_MISSING, typed)
    if len(typed) > MAX_EMAIL_LENGTH:
        raise _refused(ErrorCode.EMAIL_TOO_LONG, typed, max_length=MAX_EMAIL_LENGTH)
    try:
        checked = validate_email(typed, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise _refused(ErrorCode.INVALID_EMAIL, typed, detail=str(error)) from None
    return str(checked.ascii_email or checked.normalized)


def guest_email_for(identity: CartIdentity, typed: str | None) -> str | None:
    """The address to keep on a checkout's order: the guest's, checked; None for a signed-in
    shopper (whatever the form sent)."""
    if identity.user_id is not None:
        return None
    return checked_email(typed or "")


def _refused(code: ErrorCode, typed: str, **values: object) -> FieldError:
    return FieldError(code, field=EMAIL_FIELD, value=typed[:MAX_EMAIL_LENGTH], **values)
