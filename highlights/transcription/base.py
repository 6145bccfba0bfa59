"""The one interface every transcription provider implements, and its error type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from highlights.errors import HighlightsError
from highlights.types import Transcript

ProgressCallback = Callable[[float], None]
"""Called with the share of the recording done so far, 0.0-1.0, never decreasing."""


class TranscriptionError(HighlightsError, RuntimeError):
    """Transcription failed.

    `transient` tells the caller whether trying again later may help (rate limits, 5xx,
    timeouts, lost connections) or not (bad API key, bad request, missing model, bad audio);
    the message is one line a user can act on and says which kind it was.
    """

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message, transient=transient)

    def __reduce__(self):  # keep `transient` when the error crosses a process boundary
        return (_rebuild_error, (self.message, self.transient))


def _rebuild_error(message: str, transient: bool) -> TranscriptionError:
    return TranscriptionError(message, transient=transient)


@runtime_checkable
class Transcriber(Protocol):
    name: str  # agent name for processing logs, e.g. "faster-whisper"
    model: str

    def transcribe(
        self,
        wav_path: str,
        *,
        duration: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe a 16 kHz mono 16-bit WAV; times in the result are seconds from its start.

        `duration`, when given, stops at that second (e.g. the video's end when the audio
        runs longer); `progress` gets the share of it done, rising to 1.0.
        """
        ...


class ProgressReporter:
    """Turns 'seconds done' into a monotonic 0-1 share for a ProgressCallback."""

    def __init__(self, callback: ProgressCallback | None, total_seconds: float) -> None:
        self._callback = callback
        self._total = max(total_seconds, 1e-6)
        self._last = 0.0

    def seconds_done(self, seconds: float) -> None:
        share = min(max(seconds / self._total, 0.0), 1.0)
        if self._callback is None or share <= self._last:
            return
        self._last = share
        self._callback(share)

    def finish(self) -> None:
        if self._callback is not None and self._last < 1.0:
            self._last = 1.0
            self._callback(1.0)
