"""Which failures are worth retrying, and how to say what went wrong in one line."""

from __future__ import annotations

import errno
import socket

from sqlalchemy.exc import DBAPIError, OperationalError

from highlights.errors import HighlightsError


class StageError(HighlightsError, RuntimeError):
    """A stage cannot go on; `transient` says whether trying again may help."""


_TRANSIENT_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ETIMEDOUT, errno.EPIPE,
                     errno.EHOSTUNREACH, errno.ENETUNREACH}


def is_transient(exc: BaseException) -> bool:
    """True for failures that another attempt may cure: rate limits, outages, restarts.

    Bad input (a corrupt file, a bad API key, a full disk) is not retried: the same
    attempt would fail the same way and only delay the error the user needs to see.
    """
    if isinstance(exc, HighlightsError):  # our own errors say so themselves
        return exc.transient
    # Failures of the libraries underneath, by type: the database and the network.
    if isinstance(exc, OperationalError | DBAPIError) and getattr(exc, "connection_invalidated", False):
        return True
    if isinstance(exc, OperationalError):
        return True  # server restarted, connection dropped, database locked
    if isinstance(exc, TimeoutError | ConnectionError | socket.timeout):
        return True
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS


def one_line(exc: BaseException, limit: int = 480) -> str:
    """The exception as one line a user can read: its class only when the text is empty."""
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        text = f"no space left on device while writing {exc.filename or 'work files'}"
    elif ("no space left on device" in str(getattr(exc, "stderr_tail", "")).lower()
          and "no space left" not in text.lower()):
        # ffmpeg's last words after filling the disk are "Nothing was written into output
        # file", which hides the cause the user has to fix.
        text = f"no space left on device ({text})"
    if not text:
        text = type(exc).__name__
    elif isinstance(exc, KeyError | AttributeError | TypeError | IndexError | AssertionError):
        text = f"{type(exc).__name__}: {text}"  # a bug rather than bad input: keep the type
    return text if len(text) <= limit else text[: limit - 1] + "…"
