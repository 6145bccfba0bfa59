"""Topics from the slides: where the slide's topic changes, and what the slide calls it.

A lecture's slides state its structure. A change of slide *title* (or of the section
label a deck carries in its header or footer) is the strongest topic-boundary evidence
there is; a bullet build on the same slide is none, and neither is a "(cont.)" slide.
Consecutive slides on one topic form a *run*; each run's start becomes a boundary, placed
in the longest pause near the slide change (lecturers click, then speak, or announce the
topic and then click), so a topic still starts with its first sentence.

Slides do not say everything: a lecturer may talk over one slide through two subjects,
or a stretch may have no slide at all. Runs much longer than the lecture's typical run
are handed to the lexical segmentation (`segmentation.find_boundaries`), which only adds
boundaries inside them. No fixed minimum topic length applies between slide runs, so a
lecture of many short topics keeps them; only a slide flashed for a few seconds (paging
through) does not make a topic of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from highlights.content.text import content_stems
from highlights.content.topic_boundaries import SegmentationParams, find_boundaries
from highlights.ocr import respace
from highlights.titles import clean_title, normalize
from highlights.types import SilenceRegion, Slide, SlideLine, TranscriptSegment

# A slide run shorter than this is someone paging through, not a topic.
MIN_RUN_SECONDS = 12.0
# A boundary moves at most this far from its slide change to sit in a pause.
SNAP_SECONDS = 8.0
# Runs longer than this many times the median run (and than LONG_RUN_SECONDS) get the
# lexical segmentation inside them.
LONG_RUN_FACTOR = 3.0
LONG_RUN_SECONDS = 240.0
# Slides must cover this share of the speech to lead the segmentation.
MIN_COVERAGE = 0.3
# At least this share of the slides' words must be spoken for their text to be trusted
# as titles (slides in another language, or OCR garbage, fall below it).
MIN_SPOKEN_SHARE = 0.2

_SUBTITLE = re.compile(r"\s*[:–—|]\s+|\s+-\s+")


@dataclass(frozen=True)
class SlideRun:
    """Consecutive slides on one topic."""

    start: float
    end: float
    key: str  # what makes two slides the same topic (normalised)
    title: str  # the run's topic title, cleaned


@dataclass(frozen=True)
class SlidePlan:
    """What the slides decided: topic starts (transcript unit indices) and their titles."""

    unit_indices: list[int]
    runs: list[SlideRun]
    notes: list[str]


def respaced(slides: Sequence[Slide], vocabulary: set[str]) -> list[Slide]:
    """The slides with words OCR ran together split where the lecture's words spell them."""
    out = []
    for s in slides:
        out.append(
            Slide(
                start=s.start,
                end=s.end,
                title=respace(s.title, vocabulary),
                lines=tuple(SlideLine(respace(ln.text, vocabulary), ln.confidence) for ln in s.lines),
                confidence=s.confidence,
                section=respace(s.section, vocabulary),
            )
        )
    return out


def spoken_share(slides: Sequence[Slide], segments: Sequence[TranscriptSegment]) -> float:
    """Share of the slides' content words that the lecturer also says (stemmed)."""
    spoken = {stem for seg in segments for stem in content_stems(seg.text)}
    shown = [stem for s in slides for stem in content_stems(s.text)]
    if not shown:
        return 0.0
    return sum(1 for stem in shown if stem in spoken) / len(shown)


def topic_key(slide: Slide, by_section: bool) -> str:
    """Slides with the same key are on the same topic."""
    if by_section:
        return normalize(slide.section)
    title = clean_title(slide.title)
    # "Sorting: merge sort" and "Sorting: quicksort" are one topic, "Sorting"
    head = _SUBTITLE.split(title, maxsplit=1)[0]
    return normalize(head if len(content_stems(head)) >= 1 else title)


def slide_runs(slides: Sequence[Slide], end_time: float) -> list[SlideRun]:
    """Consecutive slides grouped by topic key; each run lasts until the next begins."""
    titled = [s for s in slides if s.title or s.section]
    if not titled:
        return []
    by_section = sum(1 for s in titled if s.section) >= 0.5 * len(titled)
    groups: list[list[Slide]] = []
    keys: list[str] = []
    for slide in titled:
        key = topic_key(slide, by_section)
        if not key and groups:
            groups[-1].append(slide)  # an untitled slide belongs to the topic before it
            continue
        if groups and key == keys[-1]:
            groups[-1].append(slide)
        else:
            groups.append([slide])
            keys.append(key)
    runs: list[SlideRun] = []
    for k, (group, key) in enumerate(zip(groups, keys, strict=True)):
        start = group[0].start
        end = groups[k + 1][0].start if k + 1 < len(groups) else max(end_time, group[-1].end)
        runs.append(SlideRun(start, end, key, _run_title(group, by_section)))
    return _absorb_flashes(runs)


def _run_title(group: Sequence[Slide], by_section: bool) -> str:
    """The section label; or the heading the run's titles share ("Sorting" for "Sorting:
    merge sort" and "Sorting: quicksort"); or the title of the slide shown longest."""
    if not by_section:
        titles = {normalize(clean_title(s.title)) for s in group if s.title}
        heads = {_SUBTITLE.split(clean_title(s.title), maxsplit=1)[0] for s in group if s.title}
        if len(titles) > 1 and len({normalize(h) for h in heads}) == 1:
            return heads.pop()
    shown: dict[str, float] = {}
    names: dict[str, str] = {}
    for s in group:
        name = clean_title(s.section if by_section and s.section else s.title)
        if not name:
            continue
        key = normalize(name)
        shown[key] = shown.get(key, 0.0) + s.duration
        names.setdefault(key, name)
    if not shown:
        return ""
    return names[max(shown, key=lambda k: (shown[k], -list(names).index(k)))]


def _absorb_flashes(runs: list[SlideRun]) -> list[SlideRun]:
    """A run shorter than MIN_RUN_SECONDS joins its predecessor (or successor)."""
    out: list[SlideRun] = []
    for run in runs:
        if out and (run.end - run.start < MIN_RUN_SECONDS or run.key == out[-1].key):
            last = out[-1]
            out[-1] = SlideRun(last.start, run.end, last.key, last.title)
        else:
            out.append(run)
    if len(out) > 1 and out[0].end - out[0].start < MIN_RUN_SECONDS:
        first, second = out[0], out[1]
        out[:2] = [SlideRun(first.start, second.end, second.key, second.title)]
    return out


def _snap(change: float, starts: np.ndarray, ends: np.ndarray) -> int | None:
    """The unit that opens the new topic: after the longest pause near the change."""
    gaps = np.arange(1, len(starts))
    gap_times = (ends[:-1] + starts[1:]) / 2
    near = np.abs(gap_times - change) <= SNAP_SECONDS
    if not near.any():
        return None
    pauses = np.maximum(starts[1:] - ends[:-1], 0.0)
    # the longest pause wins; among similar pauses the one closest to the change
    score = pauses - 0.05 * np.abs(gap_times - change)
    score[~near] = -np.inf
    return int(gaps[int(np.argmax(score))])


def plan_from_slides(
    slides: Sequence[Slide],
    segments: Sequence[TranscriptSegment],
    silences: Sequence[SilenceRegion],
    params: SegmentationParams,
) -> SlidePlan | None:
    """Topic boundaries led by the slides, or None when the slides cannot lead."""
    if len(segments) < 2:
        return None
    end_time = float(segments[-1].end)
    runs = slide_runs(slides, end_time)
    spoken = max(end_time - float(segments[0].start), 1e-6)
    covered = sum(min(r.end, end_time) - max(r.start, segments[0].start) for r in runs)
    if len(runs) < 2 or covered / spoken < MIN_COVERAGE:
        return None
    starts = np.array([s.start for s in segments])
    ends = np.array([s.end for s in segments])
    indices: set[int] = set()
    for run in runs[1:]:
        unit = _snap(run.start, starts, ends)
        if unit is not None:
            indices.add(unit)

    notes: list[str] = []
    lengths = [r.end - r.start for r in runs]
    long_run = max(LONG_RUN_SECONDS, LONG_RUN_FACTOR * float(np.median(lengths)))
    cuts = sorted({0, *indices, len(segments)})
    for a, b in zip(cuts, cuts[1:], strict=False):
        if float(ends[b - 1] - starts[a]) <= long_run or b - a < 4:
            continue
        inner = find_boundaries(
            [content_stems(s.text) for s in segments[a:b]],
            starts[a:b].tolist(),
            ends[a:b].tolist(),
            silences=silences,
            params=params,
        )
        added = [a + i for i in inner.unit_indices]
        if added:
            indices.update(added)
            notes.append(
                f"{len(added)} lexical boundary(ies) inside a {ends[b - 1] - starts[a]:.0f} s "
                "stretch without a slide change"
            )
    return SlidePlan(sorted(indices), runs, notes)


def title_for_span(runs: Sequence[SlideRun], start: float, end: float) -> str:
    """The title of the slide run shown longest inside [start, end)."""
    best, best_overlap = "", 0.0
    for run in runs:
        overlap = min(run.end, end) - max(run.start, start)
        if overlap > best_overlap and run.title:
            best, best_overlap = run.title, overlap
    return best


def slides_in_span(slides: Sequence[Slide], start: float, end: float) -> list[Slide]:
    """Slides shown for at least half their time, or most of the span, inside it."""
    out = []
    for s in slides:
        overlap = min(s.end, end) - max(s.start, start)
        if overlap > 0 and (overlap >= 0.5 * s.duration or overlap >= 0.5 * (end - start)):
            out.append(s)
    return out
