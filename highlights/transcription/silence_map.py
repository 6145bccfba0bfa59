"""Where the recording is silent, from its loudness envelope.

Transcription runs beside the pipeline's own silence-detection stage, so it computes the
silence map it needs (for choosing chunk cuts and for spotting text Whisper invents in
silence) from the envelope itself instead of waiting for that stage.
"""

from __future__ import annotations

import numpy as np

from highlights.types import SilenceRegion

_SILENT_RECORDING_DBFS = -55.0  # loudest frames below this: nothing audible at all


def silence_threshold_dbfs(envelope_db: np.ndarray) -> float | None:
    """A level between the noise floor and speech, or None when the audio has no quiet parts.

    Percentiles rather than fixed levels, because lectures are recorded anywhere from a
    studio (-80 dBFS floor) to a noisy hall (-40 dBFS floor).
    """
    if len(envelope_db) == 0:
        return None
    floor = float(np.percentile(envelope_db, 10))
    speech = float(np.percentile(envelope_db, 90))
    if speech < _SILENT_RECORDING_DBFS:
        return float("inf")  # the whole recording is silent
    if speech - floor < 10.0:  # no quiet stretches to tell apart (constant noise or talk)
        return None
    return floor + max(6.0, 0.3 * (speech - floor))


def find_silences(envelope_db: np.ndarray, hop: float, min_duration: float) -> list[SilenceRegion]:
    """Runs of frames below the adaptive threshold lasting at least `min_duration` seconds."""
    threshold = silence_threshold_dbfs(envelope_db)
    if threshold is None:
        return []
    quiet = envelope_db < threshold
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    recorded = None if threshold == float("inf") else round(threshold, 1)
    return [
        SilenceRegion(float(s * hop), float(e * hop), "audio_silence", recorded)
        for s, e in zip(starts, ends, strict=True)
        if (e - s) * hop >= min_duration
    ]


def silent_share(start: float, end: float, silences: list[SilenceRegion]) -> float:
    """The share of [start, end] that lies inside the given silences (assumed disjoint)."""
    length = end - start
    if length <= 0:
        return 0.0
    covered = sum(max(0.0, min(end, s.end) - max(start, s.start)) for s in silences)
    return min(1.0, covered / length)
