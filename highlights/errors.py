"""The one error model: every failure the product raises on purpose is a `HighlightsError`.

`transient` is the only thing the retry rule reads: True when trying again later may
succeed (an outage, a rate limit, a full disk being cleared, a restart), False when the
same input would fail the same way (a corrupt file, a rejected key, a bad request). The
code that raises an error knows which it is; nobody downstream guesses from its text.
The message is one line a user can act on.
"""

from __future__ import annotations


class HighlightsError(Exception):
    """A failure with a user-readable message and a `transient` flag."""

    transient: bool = False

    def __init__(self, message: str, *, transient: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if transient is not None:
            self.transient = transient
