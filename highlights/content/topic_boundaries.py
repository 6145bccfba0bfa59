"""Topic boundaries: TextTiling proposes, a description-length test decides.

The transcript is a sequence of units (transcript segments). Between every two units is a
*gap*, a candidate boundary.

Stage 1, TextTiling (Hearst 1997). For each gap we compare the vocabulary just before it
with the vocabulary just after it (cosine similarity of weighted term counts). Inside a
topic the two sides share terms; at a change of topic they do not, so topic changes show
up as valleys in the similarity curve. A valley's *depth* (the rise to the highest point
on each side) is its strength, multiplied up by the lecturer's own cues: a slide change
nearby, or a pause longer than this lecturer's usual pause between sentences. Candidates
are the strongest gap in every half minimum-topic-length, kept if their score passes
Hearst's data-driven cutoff (mean - std/2 over the candidates).

Stage 2, confirmation by description length (Utiyama & Isahara 2001). A boundary must pay
for itself: the transcript is coded as a unigram language model per topic (Laplace
smoothed), each extra topic costs a fixed prior, and dynamic programming over the
candidates finds the set of boundaries with the shortest total code. This compares whole
topics rather than two fixed blocks, so it tells a real change of subject from a passing
dip in vocabulary, and it sets the number of topics from the data without a threshold.
The cues lower a boundary's cost a little, so among equal lexical evidence the gap at a
slide change or long pause wins.

Choices that make it work on lectures of any length, from a 3-minute clip to 3 hours:

- Blocks are measured in content tokens, not in transcript segments, because recogniser
  segments vary from two words to forty. Three block sizes are averaged (small ones
  place a boundary precisely, large ones ignore chatter); they scale with the lecture.
- Terms are weighted by how few stretches of the lecture they occur in (an IDF over
  fixed-size chunks), so a term the whole lecture uses says little about where a topic
  ends.
- Lexical evidence locates a boundary only to within a sentence or so; each gap may
  borrow the deepest valley within reach, and the cues pick the exact gap among them.
- Topics are never shorter than a minimum length that grows with the lecture (20 s for a
  short clip up to 2 min for a long lecture).
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
    peak_reach_blocks: float = 1.0  # a valley's peaks are looked for this many blocks away
    min_topic_fraction: float = 1 / 40  # shortest topic, as a share of the spoken time ...
    min_topic_seconds: float = 20.0  # ... but at least this long
    max_min_topic_seconds: float = 120.0  # ... and never required to be longer than this
    cutoff_std_factor: float = 0.5  # candidate if score > mean - factor * std (Hearst)
    slide_weight: float = 0.6  # cue strength gained at a slide change
    slide_reach_seconds: float = 6.0  # how far a slide change's influence reaches
    pause_weight: float = 1.0  # cue strength gained at a long pause
    long_pause_seconds: float = 2.0  # a pause this much longer than usual counts in full
    snap_units: float = 1.5  # a boundary may move this many (median) transcript units ...
    snap_min_seconds: float = 4.0  # ... but at least this far ...
    snap_max_seconds: float = 15.0  # ... and at most this far, to meet a cue
    # Per-topic prior, in units of log(tokens). Utiyama & Isahara's prior is 1; spoken
    # lectures repeat themselves and vary their wording more than edited text, and at 1
    # a few-sentence digression already pays for a boundary.
    topic_prior: float = 2.0
    cue_discount: float = 0.5  # a full-strength cue takes this much prior off a boundary


@dataclass(frozen=True)
class Boundaries:
    """Where topics change, as indices of the transcript units that open a new topic."""

    unit_indices: list[int]
    gap_scores: np.ndarray  # TextTiling score per gap (gap g sits before unit g + 1)
    candidates: list[int]  # gaps that stage 1 proposed


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


def _depth_scores(
    sims: np.ndarray, positions: np.ndarray | None = None, reach: int = 0
) -> np.ndarray:
    """Hearst's depth: the rise to the peak on each side of a gap, added.

    With ``reach`` (in tokens) the peak is the highest point within that many tokens on
    each side, instead of the first point where the curve stops rising. Hill-climbing
    stops at every small bump, which splits one wide, noisy valley into several shallow
    ones; the windowed peak keeps the valley's full depth across its flat bottom, and the
    cues (slides, pauses) then pick the exact gap.
    """
    n = len(sims)
    if reach > 0 and positions is not None:
        lo = np.searchsorted(positions, positions - reach, side="left")
        hi = np.searchsorted(positions, positions + reach, side="right")
        left_peak = np.array([sims[lo[i] : i + 1].max() for i in range(n)])
        right_peak = np.array([sims[i : hi[i]].max() for i in range(n)])
        return (left_peak - sims) + (right_peak - sims)
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
        return Boundaries([], np.zeros(0), [])
    start_arr = np.asarray(starts, dtype=float)
    end_arr = np.asarray(ends, dtype=float)
    tokens, unit_starts, vocab_size = _term_ids(units)
    if len(tokens) == 0:
        return Boundaries([], np.zeros(n - 1), [])

    # Stage 1: TextTiling scores per gap.
    sizes = block_sizes(len(tokens), params)
    weights = _term_weights(tokens, vocab_size, sizes[0] * 2)
    positions = unit_starts[1:n]  # token index where each gap's right side begins
    curves = [_fill_nan(_block_similarity(tokens, positions, b, weights)) for b in sizes]
    sims = np.mean(curves, axis=0)
    if len(sims) >= 3:  # Hearst's light smoothing of the curve
        padded = np.concatenate([[sims[0]], sims, [sims[-1]]])
        sims = (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4
    depth = _depth_scores(sims, positions, int(params.peak_reach_blocks * sizes[-1]))

    gap_times = (end_arr[:-1] + start_arr[1:]) / 2
    cue = params.slide_weight * _slide_proximity(
        gap_times, slide_changes, params.slide_reach_seconds
    ) + params.pause_weight * _pause_strength(
        start_arr, end_arr, silences, params.long_pause_seconds
    )
    unit_seconds = float(np.median(end_arr - start_arr))
    reach = float(
        np.clip(params.snap_units * unit_seconds, params.snap_min_seconds, params.snap_max_seconds)
    )
    scores = _dilate(depth, gap_times, reach) * (1.0 + cue)

    min_len = min_topic_seconds(float(end_arr[-1] - start_arr[0]), params)
    pool = _strongest_apart(scores, depth, start_arr, end_arr, min_len / 2)
    if not pool:
        return Boundaries([], scores, [])
    pool_scores = scores[pool]
    cutoff = float(np.mean(pool_scores) - params.cutoff_std_factor * np.std(pool_scores))
    candidates = sorted(g for g in pool if scores[g] > cutoff)

    # Stage 2: keep the candidates that shorten the lecture's description.
    chosen = _shortest_description(
        tokens, unit_starts, vocab_size, candidates, cue, start_arr, end_arr, min_len, params
    )
    return Boundaries([g + 1 for g in chosen], scores, candidates)


def _dilate(values: np.ndarray, times: np.ndarray, reach: float) -> np.ndarray:
    """Each entry becomes the maximum of the entries within ``reach`` seconds of it."""
    lo = np.searchsorted(times, times - reach, side="left")
    hi = np.searchsorted(times, times + reach, side="right")
    return np.array([values[lo[i] : hi[i]].max() for i in range(len(values))])


def _strongest_apart(
    scores: np.ndarray, depth: np.ndarray, starts: np.ndarray, ends: np.ndarray, spacing: float
) -> list[int]:
    """Gaps with a positive score, strongest first, at least ``spacing`` seconds apart and
    from either end of the lecture."""
    lecture_start, lecture_end = float(starts[0]), float(ends[-1])
    taken: list[float] = []
    chosen: list[int] = []
    # Ties go to the deeper raw valley, then the earlier gap: deterministic.
    for g in sorted(range(len(scores)), key=lambda i: (-scores[i], -depth[i], i)):
        if scores[g] <= 0:
            break
        t = float(starts[g + 1])
        if t - lecture_start < spacing or lecture_end - t < spacing:
            continue
        if any(abs(t - c) < spacing for c in taken):
            continue
        chosen.append(g)
        taken.append(t)
    return chosen


def _shortest_description(
    tokens: np.ndarray,
    unit_starts: np.ndarray,
    vocab_size: int,
    candidates: Sequence[int],
    cue: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    min_len: float,
    params: SegmentationParams,
) -> list[int]:
    """The subset of candidate gaps minimising total description length (U00), by DP.

    Cost of a topic holding c_w tokens of term w (n in all), with k distinct terms in the
    lecture: sum_w c_w * -log((c_w + 1) / (n + k)). Each topic adds
    ``topic_prior * log(N)``; a boundary at a cue of strength s gets
    ``cue_discount * s * log(N)`` back. Topics shorter than ``min_len`` are not allowed.
    """
    total = len(tokens)
    points = [0] + [int(unit_starts[g + 1]) for g in candidates] + [total]
    times = [float(starts[0])] + [float(starts[g + 1]) for g in candidates] + [float(ends[-1])]
    m = len(points)
    prefix = np.zeros((m, vocab_size))
    for i in range(1, m):
        chunk = tokens[points[i - 1] : points[i]]
        prefix[i] = prefix[i - 1] + np.bincount(chunk, minlength=vocab_size)
    log_total = float(np.log(max(total, 2)))
    prior = params.topic_prior * log_total

    def code_length(i: int, j: int) -> float:
        counts = prefix[j] - prefix[i]
        counts = counts[counts > 0]
        n = counts.sum()
        return float(n * np.log(n + vocab_size) - np.sum(counts * np.log(counts + 1)))

    best = np.full(m, np.inf)
    best[0] = 0.0
    back = np.zeros(m, dtype=int)
    for j in range(1, m):
        for i in range(j):
            whole = i == 0 and j == m - 1  # a lecture shorter than min_len stays one topic
            if times[j] - times[i] < min_len and not whole:
                continue
            if not np.isfinite(best[i]):
                continue
            discount = params.cue_discount * float(cue[candidates[i - 1]]) * log_total if i else 0.0
            value = best[i] + code_length(i, j) + prior - discount
            if value < best[j]:
                best[j], back[j] = value, i
    chosen: list[int] = []
    j = m - 1
    while j > 0:
        j = int(back[j])
        if j > 0:
            chosen.append(candidates[j - 1])
    return sorted(chosen)
