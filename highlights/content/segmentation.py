"""Topic boundaries by lexical cohesion (TextTiling), strengthened by slides and pauses.

The transcript is a sequence of units (transcript segments). Between every two units is
a *gap*, a candidate boundary. For each gap we compare the vocabulary just before it with
the vocabulary just after it (cosine similarity of weighted term counts): inside a topic
the two sides share terms, at a change of topic they do not, so topic changes show up as
valleys in the similarity curve (Hearst 1997, "TextTiling").

Choices that make it work on lectures of any length, from a 5-minute clip to 3 hours:

- Blocks are measured in content tokens, not in transcript segments, because recogniser
  segments vary from two words to forty. Several block sizes are averaged: small blocks
  place a boundary precisely, large blocks keep chatter within a topic from looking like
  a change. The sizes scale with the lecture's length.
- Terms are weighted by how few stretches of the lecture they occur in (an IDF over
  fixed-size chunks), so a term the whole lecture uses ("node" in a data-structures
  course) says little about where one topic ends.
- A valley's *depth* (how far the curve climbs on each side before it falls again) is its
  strength. Depth is multiplied up by the lecturer's own cues: a slide change nearby or a
  pause longer than the lecture's usual pause between sentences.
- The cutoff is data-driven (Hearst's mean - std/2 over the valleys' scores), then
  boundaries are taken strongest first, never closer together than a minimum topic
  length, and a chosen boundary moves to the transcript border nearest a slide change if
  one is close by, since lecturers usually switch slides as they switch topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from highlights.types import SilenceRegion


@dataclass(frozen=True)
class SegmentationParams:
    """Tunable knobs; the defaults are for spoken lectures in general."""

    blocks_per_lecture: float = 60.0  # smallest block = total content tokens / this ...
    min_block_tokens: int = 10  # ... but at least this many
    max_block_tokens: int = 60  # ... and at most this many; larger scales are 2x and 4x
    min_topic_fraction: float = 1 / 40  # shortest topic, as a share of the spoken time ...
    min_topic_seconds: float = 20.0  # ... but at least this long
    max_min_topic_seconds: float = 120.0  # ... and never required to be longer than this
    cutoff_std_factor: float = 0.5  # boundary if score > mean(valley scores) - factor * std
    slide_weight: float = 0.6  # depth multiplier gained at a slide change
    slide_reach_seconds: float = 6.0  # how far a slide change's influence reaches
    snap_units: float = 1.5  # a boundary may move this many (median) transcript units ...
    snap_min_seconds: float = 4.0  # ... but at least this far ...
    snap_max_seconds: float = 15.0  # ... and at most this far, to meet a slide change or pause
    pause_weight: float = 1.0  # depth multiplier gained at a long pause
    long_pause_seconds: float = 2.0  # a pause this much longer than usual counts in full


@dataclass(frozen=True)
class Boundaries:
    """Where topics change, as indices of the transcript units that open a new topic."""

    unit_indices: list[int]
    gap_scores: np.ndarray  # combined score per gap (gap g sits before unit g + 1)
    cutoff: float


def _term_ids(units: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, int]:
    vocabulary: dict[str, int] = {}
    ids: list[int] = []
    unit_starts = np.zeros(len(units) + 1, dtype=np.int64)
    for i, stems in enumerate(units):
        unit_starts[i] = len(ids)
        for s in stems:
            ids.append(vocabulary.setdefault(s, len(vocabulary)))
    unit_starts[len(units)] = len(ids)
    return np.asarray(ids, dtype=np.int64), unit_starts, len(vocabulary)


def _term_weights(tokens: np.ndarray, vocab_size: int, chunk: int) -> np.ndarray:
    """IDF over fixed-size chunks of the token stream."""
    chunks = max(1, int(np.ceil(len(tokens) / chunk)))
    df = np.zeros(vocab_size)
    for c in range(chunks):
        df[np.unique(tokens[c * chunk : (c + 1) * chunk])] += 1
    return np.log1p(chunks / np.maximum(df, 1))


def _block_similarity(
    tokens: np.ndarray, positions: np.ndarray, block: int, weights: np.ndarray
) -> np.ndarray:
    """Cosine similarity of the ``block`` tokens before and after each position."""
    vocab_size = len(weights)
    w2 = weights**2
    sims = np.full(len(positions), np.nan)
    for k, p in enumerate(positions):
        left = tokens[max(0, p - block) : p]
        right = tokens[p : p + block]
        if len(left) == 0 or len(right) == 0:
            continue
        lc = np.bincount(left, minlength=vocab_size)
        rc = np.bincount(right, minlength=vocab_size)
        norm = np.sqrt(np.dot(lc * lc, w2) * np.dot(rc * rc, w2))
        sims[k] = np.dot(lc * rc, w2) / norm if norm > 0 else 0.0
    return sims


def _fill_nan(values: np.ndarray) -> np.ndarray:
    good = ~np.isnan(values)
    if not good.any():
        return np.zeros_like(values)
    idx = np.arange(len(values))
    return np.interp(idx, idx[good], values[good])


def _depth_scores(sims: np.ndarray) -> np.ndarray:
    """Hearst's depth: climb to the nearest peak on each side, add both rises."""
    n = len(sims)
    left_peak = sims.copy()
    for i in range(1, n):
        if sims[i - 1] >= sims[i]:
            left_peak[i] = left_peak[i - 1]
    right_peak = sims.copy()
    for i in range(n - 2, -1, -1):
        if sims[i + 1] >= sims[i]:
            right_peak[i] = right_peak[i + 1]
    return (left_peak - sims) + (right_peak - sims)


def _slide_proximity(
    gap_times: np.ndarray, slide_changes: Sequence[float], reach: float
) -> np.ndarray:
    if not slide_changes or reach <= 0:
        return np.zeros(len(gap_times))
    slides = np.sort(np.asarray(slide_changes, dtype=float))
    idx = np.searchsorted(slides, gap_times)
    before = np.abs(gap_times - slides[np.clip(idx - 1, 0, len(slides) - 1)])
    after = np.abs(slides[np.clip(idx, 0, len(slides) - 1)] - gap_times)
    nearest = np.minimum(before, after)
    return np.clip(1.0 - nearest / reach, 0.0, 1.0)


def _pause_strength(
    starts: np.ndarray,
    ends: np.ndarray,
    silences: Sequence[SilenceRegion],
    long_pause: float,
) -> np.ndarray:
    """0-1 per gap: how much longer than this lecturer's usual pause the gap is."""
    pauses = np.maximum(starts[1:] - ends[:-1], 0.0)
    for region in silences:
        if region.silence_type == "blank_screen":
            continue  # a blank slide is not the lecturer pausing
        # A detected silence that overlaps a gap is evidence of a real pause even when the
        # recogniser's timestamps run words together.
        lo = np.searchsorted(ends[:-1], region.start - 0.5)
        hi = np.searchsorted(starts[1:], region.end + 0.5, side="right")
        for g in range(lo, min(hi, len(pauses))):
            overlap = min(region.end, starts[g + 1] + 0.5) - max(region.start, ends[g] - 0.5)
            if overlap > 0:
                pauses[g] = max(pauses[g], min(region.duration, overlap))
    if len(pauses) == 0:
        return pauses
    usual = float(np.median(pauses))
    return np.clip((pauses - usual) / max(long_pause, 1e-6), 0.0, 1.0)


def block_sizes(total_tokens: int, params: SegmentationParams) -> list[int]:
    base = int(
        np.clip(
            total_tokens / params.blocks_per_lecture,
            params.min_block_tokens,
            params.max_block_tokens,
        )
    )
    sizes = [b for b in (base, 2 * base, 4 * base) if b <= max(total_tokens // 3, base)]
    return sizes or [base]


def min_topic_seconds(spoken_seconds: float, params: SegmentationParams) -> float:
    return float(
        np.clip(
            spoken_seconds * params.min_topic_fraction,
            params.min_topic_seconds,
            max(params.max_min_topic_seconds, params.min_topic_seconds),
        )
    )


def find_boundaries(
    units: Sequence[Sequence[str]],
    starts: Sequence[float],
    ends: Sequence[float],
    *,
    slide_changes: Sequence[float] = (),
    silences: Sequence[SilenceRegion] = (),
    params: SegmentationParams | None = None,
) -> Boundaries:
    """Pick topic boundaries; ``units`` are the content stems of each transcript segment."""
    params = params or SegmentationParams()
    n = len(units)
    if n < 2:
        return Boundaries([], np.zeros(0), 0.0)
    start_arr = np.asarray(starts, dtype=float)
    end_arr = np.asarray(ends, dtype=float)
    tokens, unit_starts, vocab_size = _term_ids(units)
    if len(tokens) == 0:
        return Boundaries([], np.zeros(n - 1), 0.0)

    sizes = block_sizes(len(tokens), params)
    weights = _term_weights(tokens, vocab_size, sizes[0] * 2)
    positions = unit_starts[1:n]  # token index where each gap's right side begins
    curves = [_fill_nan(_block_similarity(tokens, positions, b, weights)) for b in sizes]
    sims = np.mean(curves, axis=0)
    if len(sims) >= 3:  # Hearst's light smoothing of the curve
        padded = np.concatenate([[sims[0]], sims, [sims[-1]]])
        sims = (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4

    gap_times = (end_arr[:-1] + start_arr[1:]) / 2
    slide = _slide_proximity(gap_times, slide_changes, params.slide_reach_seconds)
    pause = _pause_strength(start_arr, end_arr, silences, params.long_pause_seconds)
    cue = 1.0 + params.slide_weight * slide + params.pause_weight * pause
    depth = _depth_scores(sims)
    # Lexical evidence places a boundary to within a sentence or so; the lecturer's cues
    # (a slide change, a long pause) place it exactly. So each gap may borrow the deepest
    # valley within reach, and the cues decide which of the nearby gaps gets the boundary.
    unit_seconds = float(np.median(end_arr - start_arr)) if n else 0.0
    reach = float(
        np.clip(params.snap_units * unit_seconds, params.snap_min_seconds, params.snap_max_seconds)
    )
    scores = _dilate(depth, gap_times, reach) * cue

    # Candidates: the strongest gap in every stretch of one minimum topic length. The
    # cutoff is Hearst's mean - std/2, taken over these candidates rather than over every
    # little valley: a long lecture has thousands of shallow valleys, whose mass would
    # drag the cutoff to zero.
    min_len = min_topic_seconds(float(end_arr[-1] - start_arr[0]), params)
    candidates = _select(scores, depth, 0.0, start_arr, end_arr, min_len)
    if not candidates:
        return Boundaries([], scores, 0.0)
    candidate_scores = scores[candidates]
    cutoff = float(np.mean(candidate_scores) - params.cutoff_std_factor * np.std(candidate_scores))
    chosen = [g for g in candidates if scores[g] > cutoff]
    return Boundaries(sorted(g + 1 for g in chosen), scores, cutoff)


def _dilate(values: np.ndarray, times: np.ndarray, reach: float) -> np.ndarray:
    """Each entry becomes the maximum of the entries within ``reach`` seconds of it."""
    out = values.copy()
    lo = np.searchsorted(times, times - reach, side="left")
    hi = np.searchsorted(times, times + reach, side="right")
    for i in range(len(values)):
        out[i] = values[lo[i] : hi[i]].max()
    return out


def _local_minima(sims: np.ndarray) -> np.ndarray:
    if len(sims) < 3:
        return np.arange(len(sims))
    left = np.concatenate([[np.inf], sims[:-1]])
    right = np.concatenate([sims[1:], [np.inf]])
    return np.flatnonzero((sims <= left) & (sims <= right) & ((sims < left) | (sims < right)))


def _select(
    scores: np.ndarray,
    depth: np.ndarray,
    cutoff: float,
    starts: np.ndarray,
    ends: np.ndarray,
    min_len: float,
) -> list[int]:
    """Strongest gaps first, skipping any that would leave a topic shorter than min_len."""
    lecture_start, lecture_end = float(starts[0]), float(ends[-1])
    chosen_times: list[float] = []
    chosen: list[int] = []
    # Stable order on ties keeps the result deterministic.
    for g in sorted(range(len(scores)), key=lambda i: (-scores[i], -depth[i], i)):
        if scores[g] <= cutoff:
            break
        t = float(starts[g + 1])
        if t - lecture_start < min_len or lecture_end - t < min_len:
            continue
        if any(abs(t - c) < min_len for c in chosen_times):
            continue
        chosen.append(g)
        chosen_times.append(t)
    return chosen
