"""Rendering errors, split into ones worth retrying and ones that are not."""

from __future__ import annotations

import errno

from highlights.errors import HighlightsError

# stderr phrases of conditions that clear up on their own: a retry may succeed.
_TRANSIENT_MARKERS = (
    "no space left on device",
    "cannot allocate memory",
    "resource temporarily unavailable",
    "too many open files",
    "disk quota exceeded",
    "input/output error",
    "connection reset",
    "connection timed out",
)
_TRANSIENT_ERRNOS = {
    errno.ENOSPC,
    errno.ENOMEM,
    errno.EAGAIN,
    errno.EMFILE,
    errno.ENFILE,
    errno.EDQUOT,
    errno.EIO,
}


class RenderError(HighlightsError, RuntimeError):
    """A clip could not be rendered.

    `transient` is True when the cause is the machine (disk full, out of memory, the
    process killed, a timeout) and a retry may succeed; False when the input or the
    plan is bad and a retry would fail the same way. `stderr_tail` keeps the last
    lines ffmpeg printed, for the logs.
    """

    def __init__(self, message: str, *, transient: bool = False, stderr_tail: str = "") -> None:
        super().__init__(message, transient=transient)
        self.stderr_tail = stderr_tail


def is_transient_output(stderr: str, returncode: int) -> bool:
    """Whether an ffmpeg failure looks like the machine's fault rather than the input's."""
    if returncode < 0:  # killed by a signal (OOM killer, shutdown)
        return True
    lowered = stderr.lower()
    return any(marker in lowered for marker in _TRANSIENT_MARKERS)


def is_transient_oserror(exc: OSError) -> bool:
    return exc.errno in _TRANSIENT_ERRNOS


def stderr_tail(stderr: str, lines: int = 12) -> str:
    return "\n".join(stderr.strip().splitlines()[-lines:])


def last_meaningful_line(stderr: str) -> str:
    """The line of ffmpeg's stderr that says what went wrong, skipping its sign-off."""
    for line in reversed(stderr.strip().splitlines()):
        text = line.strip()
        if text and not text.startswith(("Exiting with exit code", "Conversion failed")):
            return text[:300]
    return "no output from ffmpeg"
