"""Silence detection: quiet audio, blank screens, and both at once.

Audio: pauses below a threshold set relative to the recording's own noise floor, with
hysteresis so that clicks, breaths and short rustles do not split a pause
(`highlights.audio_levels`). Screen: stretches where the screen part of the frame is
uniform or dark (`highlights.frame_stats`). Only stretches of at least `min_duration`
are reported.

How the kinds relate (what `detect_silence` returns): every audio pause as an
`audio_silence` row and every blank stretch as a `blank_screen` row, as detected and
independently of each other, plus a `both` row for each stretch where the two overlap
for at least `min_duration`. A `both` row therefore always lies inside one row of each
of the other two kinds.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from highlights.audio import open_pcm16
from highlights.audio_levels import (
    QUIET_RECORDING_DBFS,
    AudioLevels,
    measure_audio,
    quiet_stretches,
)
from highlights.frame_stats import blank_mask, blank_stretches
from highlights.layout import estimate_regions
from highlights.types import Region, SilenceRegion, SilenceResult
from highlights.visual import VisualSamples


def detect_audio_silence(
    samples: np.ndarray,
    sample_rate: int,
    min_duration: float = 2.0,
    *,
    threshold_dbfs: float | None = None,
) -> list[SilenceRegion]:
    """Audio pauses of at least `min_duration` seconds as `audio_silence` regions.

    `samples` is mono int16 (a memmap is fine) or float in [-1, 1].
    """
    return _audio_regions(measure_audio(samples, sample_rate, threshold_dbfs=threshold_dbfs),
                          min_duration)


def _audio_regions(audio: AudioLevels, min_duration: float) -> list[SilenceRegion]:
    threshold = round(audio.threshold_dbfs, 2)
    return [
        SilenceRegion(start, end, "audio_silence", threshold)
        for start, end in quiet_stretches(audio, min_duration)
    ]


# --- blank screen -------------------------------------------------------------------


def detect_blank_screen(
    visual: VisualSamples | None, min_duration: float = 2.0, *, screen: Region | None = None, camera: Region | None = None
) -> list[SilenceRegion]:
    """Blank-screen stretches of at least `min_duration` seconds.

    Without `screen`/`camera` the regions are estimated from the samples' motion
    (the presenter camera is excluded from the judgement).
    """
    if visual is None or visual.count == 0:
        return []
    if screen is None and camera is None:
        screen, camera = estimate_regions(visual)
    blank = blank_mask(visual, screen, camera)
    return [
        SilenceRegion(start, end, "blank_screen")
        for start, end in blank_stretches(visual.times, blank, visual.duration, min_duration)
    ]


# --- both ---------------------------------------------------------------------------


def overlaps(
    a: list[SilenceRegion], b: list[SilenceRegion], min_duration: float, threshold: float | None
) -> list[SilenceRegion]:
    """`both` regions: every overlap of an `a` and a `b` region lasting `min_duration`."""
    out: list[SilenceRegion] = []
    j = 0
    b_sorted = sorted(b, key=lambda r: r.start)
    for ra in sorted(a, key=lambda r: r.start):
        while j < len(b_sorted) and b_sorted[j].end <= ra.start:
            j += 1
        k = j
        while k < len(b_sorted) and b_sorted[k].start < ra.end:
            start, end = max(ra.start, b_sorted[k].start), min(ra.end, b_sorted[k].end)
            if end - start >= min_duration:
                out.append(SilenceRegion(start, end, "both", threshold))
            k += 1
    return out


def detect_silence(
    audio_wav_path: str | os.PathLike[str] | None, visual: VisualSamples | None = None,
    min_duration: float = 2.0
) -> SilenceResult:
    """All silences of a recording: audio pauses, blank screens and their overlaps.

    `audio_wav_path` is the job's extracted WAV (None when the file has no audio);
    `visual` its VisualSamples (None when it has no video).
    """
    notes: list[str] = []
    audio_regions: list[SilenceRegion] = []
    floor = threshold = None
    if audio_wav_path is None:
        notes.append("no audio stream: audio silence skipped")
    else:
        samples, rate = open_pcm16(Path(audio_wav_path))
        audio = measure_audio(samples, rate)
        floor, threshold = round(audio.noise_floor_dbfs, 2), round(audio.threshold_dbfs, 2)
        audio_regions = _audio_regions(audio, min_duration)
        if audio.speech_dbfs - audio.noise_floor_dbfs < 16.0:
            if audio.speech_dbfs < QUIET_RECORDING_DBFS:
                notes.append(
                    f"audio is quiet throughout (loudest {audio.speech_dbfs:.1f} dBFS): "
                    "no speech found, the whole recording counts as silence"
                )
            else:
                notes.append(
                    f"audio level barely varies ({audio.noise_floor_dbfs:.1f} to "
                    f"{audio.speech_dbfs:.1f} dBFS): no pauses stand out from the sound"
                )
    blank_regions: list[SilenceRegion] = []
    if visual is None:
        notes.append("no video stream: blank screen skipped")
    else:
        blank_regions = detect_blank_screen(visual, min_duration)
    both = overlaps(audio_regions, blank_regions, min_duration, threshold)
    regions = sorted(audio_regions + blank_regions + both, key=lambda r: (r.start, r.silence_type))
    return SilenceResult(
        regions=regions, noise_floor_dbfs=floor, threshold_dbfs=threshold, notes=notes
    )
