"""Silence detection: quiet audio, blank screens, and both at once.

Audio. The level of every 10 ms hop (20 ms window) is measured in dBFS. A threshold
fixed in dBFS fails on real recordings (a lecture hall's floor can sit anywhere from
-70 to -40 dBFS), so the threshold is set relative to the recording itself: the noise
floor is a low percentile of the hop levels, the speech level a high one, and the
threshold sits a few dB above the floor while staying well below speech. A pause is a
stretch below the threshold, with hysteresis: a burst above the threshold ends it only
when it is speech-like, i.e. longer than a click (`click_s`) and either reaching the
loud level (close to speech) or lasting longer than `blip_s`. Clicks, bumps, breaths
and short rustles therefore do not split a pause. Only stretches of at least `min_duration` are reported.

Screen. A sampled frame is blank when its picture is uniform (a black, white or
single-colour screen): the standard deviation of its luma is tiny, or it is very dark
with little detail. When the frame has a presenter camera, only the screen part is
judged (a talking head next to a black screen share is still a blank screen).

How the kinds relate (what `detect_silence` returns): every audio pause as an
`audio_silence` row and every blank stretch as a `blank_screen` row, as detected and
independently of each other, plus a `both` row for each stretch where the two overlap
for at least `min_duration`. A `both` row therefore always lies inside one row of each
of the other two kinds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from highlights.types import Region, SilenceRegion, SilenceResult

HOP_S = 0.010
WINDOW_S = 0.020
_DIGITAL_SILENCE_DBFS = -100.0  # below this a hop is digital zero (muted, padded)
_LEVEL_FLOOR_DBFS = -120.0
# When even the loud end of a recording stays under this, nothing in it is speech.
QUIET_RECORDING_DBFS = -45.0

# Blank screen: luma (0-255) statistics of the judged area.
UNIFORM_STD = 4.0  # any single colour, including white and a projector's blue
DARK_MEAN = 20.0  # black with a little noise or a tiny logo
DARK_STD = 12.0


@dataclass(frozen=True)
class AudioLevels:
    """Hop levels of a recording and the thresholds derived from them."""

    levels_dbfs: np.ndarray  # float32, one per hop
    hop_s: float
    window_s: float
    noise_floor_dbfs: float
    speech_dbfs: float
    threshold_dbfs: float
    loud_dbfs: float  # a burst reaching this ends a pause however short it is
    duration: float | None = None  # seconds of audio measured


def frame_levels(
    samples: np.ndarray,
    sample_rate: int,
    *,
    hop_s: float = HOP_S,
    window_s: float = WINDOW_S,
    block_hops: int = 10_000,
) -> np.ndarray:
    """RMS level in dBFS of each hop-spaced window.

    `samples` is int16 or float, an array or a lazy reader (`highlights.audio.Pcm16File`);
    it is read in blocks, so a long recording never sits in memory as float.
    """
    hop = max(1, int(round(hop_s * sample_rate)))
    per_window = max(1, int(round(window_s / hop_s)))
    n_hops = samples.shape[0] // hop
    if n_hops == 0:
        return np.zeros(0, dtype=np.float32)
    scale = 1.0 / 32768.0 if samples.dtype == np.int16 else 1.0
    energy = np.empty(n_hops, dtype=np.float64)
    for h0 in range(0, n_hops, block_hops):
        h1 = min(n_hops, h0 + block_hops)
        block = np.asarray(samples[h0 * hop : h1 * hop], dtype=np.float32).reshape(h1 - h0, hop)
        block *= scale
        energy[h0:h1] = np.einsum("ij,ij->i", block, block) / hop
    if per_window > 1:
        # a window spans `per_window` hops starting at its own hop
        padded = np.concatenate([energy, np.repeat(energy[-1:], per_window - 1)])
        kernel = np.ones(per_window) / per_window
        energy = np.convolve(padded, kernel, mode="valid")[:n_hops]
    with np.errstate(divide="ignore"):
        levels = 10.0 * np.log10(energy)
    return np.maximum(levels, _LEVEL_FLOOR_DBFS).astype(np.float32)


def audio_thresholds(
    levels: np.ndarray, *, margin_db: float = 8.0
) -> tuple[float, float, float, float]:
    """(noise floor, speech level, threshold, loud level) in dBFS for hop `levels`."""
    if levels.size == 0:
        return _LEVEL_FLOOR_DBFS, _LEVEL_FLOOR_DBFS, _LEVEL_FLOOR_DBFS, _LEVEL_FLOOR_DBFS
    live = levels[levels > _DIGITAL_SILENCE_DBFS]
    # Digital zero (muted mic, padded gaps) would drag the floor to -120 dBFS and put
    # the threshold under the room noise of every real pause; estimate it from the rest.
    basis = live if live.size >= max(50, levels.size // 20) else levels
    floor = float(np.percentile(basis, 10))
    speech = float(np.percentile(levels, 95))
    spread = speech - floor
    if spread < 16.0:
        # no speech standing out from the floor: either the whole recording is quiet
        # (a muted microphone, room tone only) and is all silence, or it is loud
        # throughout (music, constant talk) and only much quieter dips would be pauses
        threshold = speech + 3.0 if speech < QUIET_RECORDING_DBFS else floor - 10.0
    else:
        # a few dB over the floor, but never within 12 dB of speech, and never more than
        # 40 dB under it (on very clean recordings breaths and hiss would break pauses)
        threshold = min(max(floor + margin_db, speech - 40.0), speech - 12.0)
    loud = max(threshold + 6.0, (threshold + speech) / 2)
    return floor, speech, threshold, loud


def measure_audio(
    samples: np.ndarray,
    sample_rate: int,
    *,
    threshold_dbfs: float | None = None,
    margin_db: float = 8.0,
) -> AudioLevels:
    levels = frame_levels(samples, sample_rate)
    floor, speech, threshold, loud = audio_thresholds(levels, margin_db=margin_db)
    if threshold_dbfs is not None:
        threshold = float(threshold_dbfs)
        loud = max(threshold + 6.0, (threshold + speech) / 2)
    return AudioLevels(
        levels,
        HOP_S,
        WINDOW_S,
        floor,
        speech,
        threshold,
        loud,
        duration=samples.shape[0] / sample_rate,
    )


def quiet_stretches(
    audio: AudioLevels, min_duration: float, *, blip_s: float = 0.25, click_s: float = 0.06
) -> list[tuple[float, float]]:
    """(start, end) seconds of every stretch below the threshold lasting `min_duration`.

    A run of hops above the threshold ends a stretch only when it is speech-like: it
    lasts longer than `click_s` and reaches the loud level, or lasts longer than
    `blip_s` whatever its level. Clicks and soft short noises are absorbed.
    """
    levels = audio.levels_dbfs
    n = levels.size
    if n == 0:
        return []
    above = levels >= audio.threshold_dbfs
    # runs of consecutive above-threshold hops
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)  # exclusive
    max_blip = int(round(blip_s / audio.hop_s))
    # a window spans several hops, so a click shows in that many more hops than it lasts
    max_click = int(round((click_s + audio.window_s) / audio.hop_s)) - 1
    sound_spans: list[tuple[int, int]] = []
    for s, e in zip(run_starts, run_ends, strict=True):
        length = e - s
        if length > max_blip or (
            length > max_click and float(levels[s:e].max()) >= audio.loud_dbfs
        ):
            sound_spans.append((int(s), int(e)))
    # a window starting at hop i covers [i*hop, i*hop + window); sound spans in seconds
    window_hops = audio.window_s / audio.hop_s
    total = audio.duration if audio.duration is not None else n * audio.hop_s
    stretches: list[tuple[float, float]] = []
    cursor = 0.0
    for s, e in sound_spans:
        sound_start = s * audio.hop_s
        # hops whose window still reaches into the sound are not silent
        if sound_start - cursor >= min_duration:
            stretches.append((cursor, sound_start))
        cursor = min(total, (e - 1 + window_hops) * audio.hop_s)
    if total - cursor >= min_duration:
        stretches.append((cursor, total))
    return [(round(a, 3), round(b, 3)) for a, b in stretches]


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
    audio = measure_audio(samples, sample_rate, threshold_dbfs=threshold_dbfs)
    threshold = round(audio.threshold_dbfs, 2)
    return [
        SilenceRegion(start, end, "audio_silence", threshold)
        for start, end in quiet_stretches(audio, min_duration)
    ]


def speech_gaps(
    samples: np.ndarray,
    sample_rate: int,
    *,
    min_gap: float = 0.3,
    threshold_dbfs: float | None = None,
) -> list[tuple[float, float]]:
    """Gaps between words or sentences of at least `min_gap` seconds: safe cut points.

    Meant for chunking audio before transcription: cut inside a gap (its middle) and
    no word is split.
    """
    audio = measure_audio(samples, sample_rate, threshold_dbfs=threshold_dbfs)
    return quiet_stretches(audio, min_gap, blip_s=0.1, click_s=0.03)


# --- blank screen -------------------------------------------------------------------


def _area_slices(region: Region | None, height: int, width: int) -> tuple[slice, slice] | None:
    if region is None or region.is_empty:
        return None
    x0 = int(np.floor(region.x * width))
    y0 = int(np.floor(region.y * height))
    x1 = int(np.ceil((region.x + region.width) * width))
    y1 = int(np.ceil((region.y + region.height) * height))
    # trim a pixel at each side: resampling blends the neighbouring area into the border
    return slice(min(y0 + 1, y1), max(y1 - 1, y0 + 1)), slice(min(x0 + 1, x1), max(x1 - 1, x0 + 1))


def blank_mask(visual, screen: Region | None = None, camera: Region | None = None) -> np.ndarray:
    """Boolean per sample: is the screen blank?

    Judged on `screen` minus `camera`; on the whole frame when there is no screen
    region (camera-only recordings) or when screen and camera are both absent.
    """
    n, height, width = visual.frames.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    keep = np.zeros((height, width), dtype=bool)
    area = _area_slices(screen, height, width)
    if area is None:
        keep[:] = True
    else:
        keep[area] = True
        cam = _area_slices(camera, height, width)
        if cam is not None:
            # grow the camera box a little so its blurred border never counts
            cy, cx = cam
            keep[max(cy.start - 2, 0) : cy.stop + 2, max(cx.start - 2, 0) : cx.stop + 2] = False
        if keep.sum() < 0.01 * keep.size:
            keep[:] = True
    if keep.all():
        return _blank_rule(np.asarray(visual.luma_mean), np.asarray(visual.luma_std))
    mean = np.empty(n, dtype=np.float32)
    std = np.empty(n, dtype=np.float32)
    for i, block in visual.blocks():
        kept = block[:, keep].astype(np.float32)
        mean[i : i + len(block)] = kept.mean(axis=1)
        std[i : i + len(block)] = kept.std(axis=1)
    return _blank_rule(mean, std)


def _blank_rule(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (std <= UNIFORM_STD) | ((mean <= DARK_MEAN) & (std <= DARK_STD))


# Share of samples that must be blank for a video to count as blank throughout: a
# recording that shows nothing but a title flash or a stray frame still has nothing to
# cut a clip picture from.
BLANK_THROUGHOUT_SHARE = 0.98


def blank_share(luma_mean: np.ndarray, luma_std: np.ndarray) -> float:
    """Share of samples whose whole frame is blank (the same rule as `blank_mask`).

    The whole frame is judged, camera included: a talking head next to a black screen
    share still has a picture worth showing, a black screen recording has none.
    """
    mean, std = np.asarray(luma_mean), np.asarray(luma_std)
    if mean.size == 0:
        return 0.0
    return float(_blank_rule(mean, std).mean())


def blank_stretches(
    times: np.ndarray, blank: np.ndarray, duration: float, min_duration: float
) -> list[tuple[float, float]]:
    """Runs of blank samples as (start, end) seconds, edges halfway between samples."""
    stretches: list[tuple[float, float]] = []
    n = blank.size
    if n == 0:
        return stretches
    edges = np.diff(np.concatenate([[0], blank.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        start = 0.0 if s == 0 else (times[s - 1] + times[s]) / 2
        end = duration if e == n else (times[e - 1] + times[e]) / 2
        if end - start >= min_duration:
            stretches.append((round(float(start), 3), round(float(end), 3)))
    return stretches


def detect_blank_screen(
    visual, min_duration: float = 2.0, *, screen: Region | None = None, camera: Region | None = None
) -> list[SilenceRegion]:
    """Blank-screen stretches of at least `min_duration` seconds.

    Without `screen`/`camera` the regions are estimated from the samples' motion
    (the presenter camera is excluded from the judgement).
    """
    if visual is None or visual.count == 0:
        return []
    if screen is None and camera is None:
        from highlights.layout import estimate_regions  # layout imports nothing from here

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
    audio_wav_path: str | os.PathLike[str] | None, visual=None, min_duration: float = 2.0
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
        from highlights.audio import open_pcm16

        samples, rate = open_pcm16(Path(audio_wav_path))
        audio = measure_audio(samples, rate)
        floor, threshold = round(audio.noise_floor_dbfs, 2), round(audio.threshold_dbfs, 2)
        audio_regions = [
            SilenceRegion(s, e, "audio_silence", threshold)
            for s, e in quiet_stretches(audio, min_duration)
        ]
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
