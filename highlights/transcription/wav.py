"""The job's shared WAV, seen by the transcription providers.

The WAV (16 kHz mono 16-bit, from `highlights.audio.extract_audio`) is memory-mapped,
never loaded whole: a six-hour lecture would be 1.4 GB as float32. Transcription runs
beside the pipeline's silence-detection stage, so it measures the pauses it needs itself,
with the same detector (`highlights.silence`): short gaps between words are where a long
recording may be cut, long pauses are where Whisper tends to invent text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from highlights.audio import open_pcm16
from highlights.audio_levels import measure_audio, quiet_stretches
from highlights.probe import MediaError
from highlights.transcription.base import TranscriptionError
from highlights.types import SilenceRegion

CUT_GAP_SECONDS = 0.3  # the shortest pause a chunk may be cut in: longer than a word gap
LONG_PAUSE_SECONDS = 1.0  # pauses long enough for Whisper to fill with invented text


@dataclass(frozen=True)
class WavAudio:
    path: str
    samples: np.ndarray  # int16, memory-mapped
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    def read_span(self, start: float, end: float) -> np.ndarray:
        """Samples of [start, end) seconds as float32 in -1..1 (what Whisper expects)."""
        first = max(0, min(self.samples.shape[0], int(round(start * self.sample_rate))))
        last = max(first, min(self.samples.shape[0], int(round(end * self.sample_rate))))
        return np.asarray(self.samples[first:last], dtype=np.float32) / 32768.0


@dataclass(frozen=True)
class PauseMap:
    levels_dbfs: np.ndarray  # one level per hop: where no pause exists, the quietest moment
    hop: float
    cut_gaps: list[SilenceRegion]  # pauses >= CUT_GAP_SECONDS: places to cut
    long_pauses: list[SilenceRegion]  # pauses >= LONG_PAUSE_SECONDS: no speech expected


def open_wav(path: str | Path) -> WavAudio:
    """Open the WAV; a permanent TranscriptionError when it is missing or not 16-bit PCM."""
    path = str(path)
    if not Path(path).is_file():
        raise TranscriptionError(f"audio file not found: {path}", transient=False)
    try:
        samples, rate = open_pcm16(path)
    except MediaError as exc:
        raise TranscriptionError(
            f"cannot read audio for transcription: {exc} (extract it with highlights.audio)",
            transient=False,
        ) from None
    return WavAudio(path, samples, rate)


def pause_map(audio: WavAudio) -> PauseMap:
    levels = measure_audio(audio.samples, audio.sample_rate)
    # blip_s 0.05: a consonant burst inside a gap still counts as speech, so a cut
    # never lands on a word's edge
    gaps = quiet_stretches(levels, CUT_GAP_SECONDS, blip_s=0.05)
    pauses = quiet_stretches(levels, LONG_PAUSE_SECONDS)
    threshold = round(levels.threshold_dbfs, 2)
    return PauseMap(
        levels_dbfs=levels.levels_dbfs,
        hop=levels.hop_s,
        cut_gaps=[SilenceRegion(a, b, "audio_silence", threshold) for a, b in gaps],
        long_pauses=[SilenceRegion(a, b, "audio_silence", threshold) for a, b in pauses],
    )
