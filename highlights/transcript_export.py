"""A job's transcript as text, SRT or VTT, for the CLI and the API alike.

The transcription stage stores SRT and VTT files beside the rows; they are served as
stored. A job from before those files existed gets them rebuilt from its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from highlights.storage import Storage, result_key
from highlights.subtitles import transcript_to_srt, transcript_to_vtt
from highlights.types import Transcript, TranscriptSegment

FORMATS = ("txt", "srt", "vtt")


class TimedLine(Protocol):
    """A transcript row: anything with these attributes (the ORM row, an API model)."""

    start_time: float
    end_time: float
    text: str
    confidence: float | None


def clock(seconds: float | None) -> str:
    """H:MM:SS, or M:SS under an hour; "-" for no time."""
    if seconds is None:
        return "-"
    whole = int(max(seconds, 0.0))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_transcript(storage: Storage, job_id: str, lines: Sequence[TimedLine], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"transcript format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "txt":
        return "\n".join(f"[{clock(x.start_time)}] {x.text}" for x in lines)
    key = result_key(job_id, f"transcript.{fmt}")
    if storage.exists(key):
        return storage.read_bytes(key).decode("utf-8")
    segments = [TranscriptSegment(x.start_time, x.end_time, x.text, x.confidence) for x in lines]
    transcript = Transcript(segments=segments)
    return transcript_to_srt(transcript) if fmt == "srt" else transcript_to_vtt(transcript)
