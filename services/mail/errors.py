"""The one error a mailer raises."""

from __future__ import annotations


class MailError(Exception):
    """The mail server did not take a message.

    `unreachable`: no server answered (connection refused, timed out, dropped): nothing was
    sent, and the message itself is not at fault. `permanent`: the server refused the message
    or its recipient for good (a 5xx), so trying again soon will not help.
    """

    def __init__(self, message: str, *, unreachable: bool = False, permanent: bool = False):
        super().__init__(message)
        self.unreachable = unreachable
        self.permanent = permanent
