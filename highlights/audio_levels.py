"""Audio levels: the loudness of every 10 ms of a recording and the pauses in it.

The level of every hop (20 ms window) is measured in dBFS. A threshold fixed in dBFS
fails on real recordings (a lecture hall's floor can sit anywhere from -70 to -40
dBFS), so the threshold is set relative to the recording itself: the noise floor is a
low percentile of the hop levels, the speech level a high one, and the threshold sits a
few dB above the floor while staying well below speech. A pause is a stretch below the
threshold, with hysteresis: a burst above it ends the pause only when it is speech-like,
i.e. longer than a click (`click_s`) and either reaching the loud level or lasting
longer than `blip_s`. Silence detection, transcription windows and clip edges all read
these levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOP_S = 0.010
WINDOW_S = 0.020
_DIGITAL_SILENCE_DBFS = -100.0  # below this a hop is digital zero (muted, padded)
_LEVEL_FLOOR_DBFS = -120.0
# When even the loud end of a recording stays under this, nothing in it is speech.
QUIET_RECORDING_DBFS = -45.0


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
