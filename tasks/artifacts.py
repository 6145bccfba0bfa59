"""Loading what earlier stages stored in the object store, as the core's types.

The database half of the hand-over is `db.loaders`; this is the object-store half
(transcript, slides, the shared audio's pauses), so stage modules read each other's
results without importing each other.
"""

from __future__ import annotations

from highlights.audio import open_pcm16
from highlights.audio_levels import speech_gaps
from highlights.types import Slide, Transcript
from tasks.context import SLIDES_JSON, TRANSCRIPT_JSON, StageContext, stored_audio

# Pauses this long and longer are where a voice really starts or stops: the clip picker
# pads clip edges inside them.
SPEECH_GAP_SECONDS = 0.25


def load_transcript(ctx: StageContext) -> Transcript:
    return Transcript.from_dict(ctx.get_json(ctx.result_key(TRANSCRIPT_JSON)))


def load_slide_changes(ctx: StageContext) -> list[float]:
    key = ctx.result_key(SLIDES_JSON)
    if not ctx.storage.exists(key):
        return []
    return [float(t) for t in ctx.get_json(key).get("slide_changes", [])]


def load_slides(ctx: StageContext) -> list[Slide]:
    """The distinct slides the layout stage read, with their text (none when unread)."""
    key = ctx.result_key(SLIDES_JSON)
    if not ctx.storage.exists(key):
        return []
    return [Slide.from_dict(item) for item in ctx.get_json(key).get("slides", [])]


def load_speech_gaps(ctx: StageContext) -> list[tuple[float, float]]:
    """Short pauses in the job's audio: where voices really start and stop."""
    wav = stored_audio(ctx)
    if wav is None:
        return []
    samples, rate = open_pcm16(wav)
    return speech_gaps(samples, rate, min_gap=SPEECH_GAP_SECONDS)
