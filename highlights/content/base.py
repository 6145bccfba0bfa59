"""The one interface every content analyzer implements, and what they share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from highlights.errors import HighlightsError
from highlights.types import ContentAnalysis, SilenceRegion, Slide, Transcript, TranscriptSegment

EMPTY_TRANSCRIPT_NOTE = (
    "transcript has no speech: no topic segments (silent or music-only recording)"
)


class AnalysisError(HighlightsError):
    """Content analysis failed; the message says what to do about it.

    ``transient`` is True when trying again later may succeed (a provider outage or rate
    limit), False when the same input will fail again (a rejected key, an unknown model).
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message, transient=transient)


@runtime_checkable
class Analyzer(Protocol):
    """Turns a timed transcript into ordered topic segments with importance scores.

    Output segments are ordered, non-overlapping and contiguous, cover the spoken part of
    the lecture (from the first speech to the last), and start and end on transcript
    segment borders.
    """

    name: str  # agent name recorded in processing logs, e.g. "local-texttiling"
    model: str

    def analyze(
        self,
        transcript: Transcript,
        *,
        slide_changes: list[float],
        silences: list[SilenceRegion],
        duration: float,
        slides: Sequence[Slide] = (),
    ) -> ContentAnalysis: ...


def spoken_segments(transcript: Transcript, duration: float) -> list[TranscriptSegment]:
    """The transcript's segments that hold words, in time order, clamped to the recording.

    Recognisers occasionally emit empty segments, segments past the end of the media, or
    an end before the start; none of that should reach the segmentation.
    """
    limit = duration if duration and duration > 0 else float("inf")
    cleaned: list[TranscriptSegment] = []
    for seg in transcript.segments:
        text = (seg.text or "").strip()
        if not text:
            continue
        start = max(0.0, float(seg.start))
        end = min(max(float(seg.end), start), limit)
        if start >= limit:
            continue
        cleaned.append(TranscriptSegment(start, end, text, seg.confidence, list(seg.words)))
    cleaned.sort(key=lambda s: (s.start, s.end))
    return cleaned


def empty_analysis(provider: str, model: str, notes: Sequence[str] = ()) -> ContentAnalysis:
    return ContentAnalysis(
        segments=[], provider=provider, model=model, notes=[EMPTY_TRANSCRIPT_NOTE, *notes]
    )
