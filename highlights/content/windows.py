"""Long lectures go to the model in overlapping windows, merged back without cutting a topic.

A three-hour transcript is ~40k tokens: it fits a context window, but answers get worse
and slower as inputs grow, and one failed request would cost the whole lecture. So the
transcript is cut into windows of ~50 minutes that overlap by a few minutes.

Merging two neighbouring windows: in the overlap both windows saw the same lines, each
with context on one side only. The overlap's middle line is the *cut*. Boundaries before
the cut come from the earlier window and boundaries after it from the later one (each
from the window whose centre is nearer). The topic that holds the cut line in either
window is kept whole: it runs from its start in the earlier window to its end in the later
window, so no topic is split at a window border.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from highlights.content.llm_answer import CheckedSegment


@dataclass(frozen=True)
class Window:
    first_line: int
    last_line: int  # inclusive


def plan_windows(
    line_starts: Sequence[float], window_seconds: float, overlap_seconds: float
) -> list[Window]:
    """Windows of about ``window_seconds`` whose neighbours share ``overlap_seconds``."""
    n = len(line_starts)
    if n == 0:
        return []
    if line_starts[-1] - line_starts[0] <= window_seconds + overlap_seconds:
        return [Window(0, n - 1)]
    step = max(window_seconds - overlap_seconds, 1.0)
    windows: list[Window] = []
    first = 0
    while True:
        t0 = line_starts[first]
        last = bisect.bisect_left(line_starts, t0 + window_seconds) - 1
        last = max(last, first)
        # Fold a short tail into this window rather than sending a sliver on its own.
        if line_starts[-1] - line_starts[first] <= window_seconds + overlap_seconds:
            windows.append(Window(first, n - 1))
            return windows
        windows.append(Window(first, last))
        next_first = bisect.bisect_left(line_starts, t0 + step)
        # Overlap by at least one line, and always move on.
        first = max(first + 1, min(next_first, last))


def merge_windows(
    windows: Sequence[Window],
    answers: Sequence[list[CheckedSegment]],
    line_starts: Sequence[float],
) -> list[CheckedSegment]:
    """One ordered, gap-free list of segments from per-window answers."""
    merged = list(answers[0])
    for prev_window, window, answer in zip(windows, windows[1:], answers[1:], strict=False):
        overlap_lo, overlap_hi = window.first_line, prev_window.last_line
        if overlap_lo > overlap_hi:  # windows that only touch: nothing to reconcile
            merged += answer
            continue
        middle = (line_starts[overlap_lo] + line_starts[overlap_hi]) / 2
        cut = min(
            range(overlap_lo, overlap_hi + 1), key=lambda i: (abs(line_starts[i] - middle), i)
        )
        k_prev = next(k for k, s in enumerate(merged) if s.first_line <= cut <= s.last_line)
        k_next = next(k for k, s in enumerate(answer) if s.first_line <= cut <= s.last_line)
        seg_prev, seg_next = merged[k_prev], answer[k_next]
        # The joined topic keeps the title of the window that saw more of it.
        prev_share = min(seg_prev.last_line, overlap_hi) - seg_prev.first_line
        next_share = seg_next.last_line - max(seg_next.first_line, overlap_lo)
        source = seg_prev if prev_share >= next_share else seg_next
        joined = CheckedSegment(
            first_line=seg_prev.first_line,
            last_line=seg_next.last_line,
            topic=source.topic,
            description=source.description,
            importance=max(seg_prev.importance, seg_next.importance),
            keywords=_union(source.keywords, seg_prev.keywords + seg_next.keywords, 10),
            concepts=_union(source.concepts, seg_prev.concepts + seg_next.concepts, 6),
        )
        merged = merged[:k_prev] + [joined] + list(answer[k_next + 1 :])
    return merged


def _union(first: list[str], more: list[str], limit: int) -> list[str]:
    out: list[str] = []
    for item in [*first, *more]:
        if item.lower() not in {o.lower() for o in out}:
            out.append(item)
    return out[:limit]
