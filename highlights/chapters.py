"""YouTube-style chapters from the content segments.

YouTube shows chapters only when the description lists at least 3 timestamps, the
first at 0:00, each chapter at least 10 seconds long, in increasing order. So:

- each topic segment becomes a chapter that runs until the next one starts (pauses
  between segments belong to the chapter before them); the first starts at 0:00;
- neighbouring chapters with the same title are joined, and chapters shorter than
  10 s are merged into the previous one (the first into the next), keeping the title
  of the part with the larger importance-weighted length;
- with fewer than 3 topics, the longest chapter is split in halves ("Title (part 1)",
  "Title (part 2)") while both halves stay at least 10 s long;
- a lecture too short for three 10-second chapters (under 30 s), or one without any
  topic, gets fewer chapters: `youtube_problem` says why, and `format_chapters`
  raises ChapterError for them unless asked for a non-strict listing.

Timestamps are whole seconds (rounded down), M:SS, or H:MM:SS from one hour on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from highlights.errors import HighlightsError
from highlights.types import ContentAnalysis

MIN_CHAPTER_SECONDS = 10
MIN_CHAPTERS = 3
MAX_TITLE_CHARS = 100


class ChapterError(HighlightsError, ValueError):
    """The chapters cannot be published as YouTube chapters; the message says why."""


@dataclass(frozen=True)
class Chapter:
    start: int  # whole seconds
    end: int  # whole seconds; the next chapter's start, or the lecture's end
    title: str

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass
class _Draft:
    start: int
    end: int
    title: str
    importance: float


def _clean_title(title: str, fallback: str) -> str:
    text = " ".join(title.split())
    if len(text) > MAX_TITLE_CHARS:
        text = text[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    return text or fallback


def build_chapters(analysis: ContentAnalysis, duration: float) -> list[Chapter]:
    """Chapters for a lecture of `duration` seconds; see the module notes for the rules."""
    if not duration or duration <= 0:
        raise ChapterError(f"lecture duration must be positive, got {duration!r}")
    end_of_lecture = int(math.floor(duration))
    segments = sorted(
        (s for s in analysis.segments if s.end > s.start and s.start < duration),
        key=lambda s: (s.start, s.end),
    )
    drafts: list[_Draft] = []
    for n, seg in enumerate(segments, start=1):
        start = 0 if not drafts else int(math.floor(max(0.0, seg.start)))
        if drafts and start <= drafts[-1].start:
            start = drafts[-1].start  # same second: merged below
        drafts.append(
            _Draft(
                start, end_of_lecture, _clean_title(seg.topic, f"Part {n}"), seg.importance_score
            )
        )
    for current, following in zip(drafts, drafts[1:], strict=False):
        current.end = following.start

    drafts = _join_same_titles(drafts)
    drafts = _merge_short(drafts)
    drafts = _split_to_minimum(drafts)
    return [Chapter(d.start, d.end, d.title) for d in drafts]


def _join_same_titles(drafts: list[_Draft]) -> list[_Draft]:
    joined: list[_Draft] = []
    for d in drafts:
        if joined and joined[-1].title.casefold() == d.title.casefold():
            joined[-1].end = d.end
            joined[-1].importance = max(joined[-1].importance, d.importance)
        else:
            joined.append(d)
    return joined


def _merge_short(drafts: list[_Draft]) -> list[_Draft]:
    drafts = list(drafts)
    while len(drafts) > 1:
        short = [i for i, d in enumerate(drafts) if d.end - d.start < MIN_CHAPTER_SECONDS]
        if not short:
            break
        i = min(short, key=lambda k: (drafts[k].end - drafts[k].start, k))
        j = i - 1 if i > 0 else 1  # into the previous chapter; the first into the next
        a, b = sorted((i, j))
        first, second = drafts[a], drafts[b]
        # The title that covers more of the merged time, weighted by importance: a
        # four-second aside does not name the hundred seconds around it.
        keep = max((first, second), key=lambda d: ((d.end - d.start) * d.importance, -d.start))
        drafts[a : b + 1] = [
            _Draft(first.start, second.end, keep.title, max(first.importance, second.importance))
        ]
    return drafts


def _split_to_minimum(drafts: list[_Draft]) -> list[_Draft]:
    drafts = list(drafts)
    while 0 < len(drafts) < MIN_CHAPTERS:
        i = max(range(len(drafts)), key=lambda k: (drafts[k].end - drafts[k].start, -k))
        d = drafts[i]
        if d.end - d.start < 2 * MIN_CHAPTER_SECONDS:
            break
        middle = d.start + (d.end - d.start) // 2
        base, part = _split_title(d.title)
        drafts[i : i + 1] = [
            _Draft(d.start, middle, f"{base} (part {part})", d.importance),
            _Draft(middle, d.end, f"{base} (part {part + 1})", d.importance),
        ]
        # Renumber later parts of the same title.
        n = part + 2
        for later in drafts[i + 2 :]:
            later_base, _ = _split_title(later.title)
            if later_base == base and later.title != later_base:
                later.title = f"{base} (part {n})"
                n += 1
    return drafts


def _split_title(title: str) -> tuple[str, int]:
    """'Sorting (part 2)' -> ('Sorting', 2); 'Sorting' -> ('Sorting', 1)."""
    if title.endswith(")") and " (part " in title:
        base, _, number = title[:-1].rpartition(" (part ")
        if number.isdigit():
            return base, int(number)
    return title, 1


def youtube_problem(chapters: Sequence[Chapter]) -> str | None:
    """Why YouTube would not show these chapters, or None when it would."""
    if not chapters:
        return "no chapters: the lecture has no topic segments"
    if len(chapters) < MIN_CHAPTERS:
        total = chapters[-1].end - chapters[0].start
        return (
            f"only {len(chapters)} chapter(s): YouTube needs at least {MIN_CHAPTERS} of "
            f"{MIN_CHAPTER_SECONDS} s or more, and this {total} s lecture has room for "
            f"{min(MIN_CHAPTERS - 1, total // MIN_CHAPTER_SECONDS)}"
        )
    if chapters[0].start != 0:
        return "the first chapter must start at 0:00"
    for a, b in zip(chapters, chapters[1:], strict=False):
        if b.start <= a.start:
            return f"chapter times must increase ({format_timestamp(b.start)} follows {format_timestamp(a.start)})"
    for c in chapters:
        if c.duration < MIN_CHAPTER_SECONDS:
            return f"chapter {c.title!r} lasts {c.duration} s; YouTube needs at least {MIN_CHAPTER_SECONDS} s"
    return None


def format_timestamp(seconds: float) -> str:
    total = int(math.floor(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_chapters(chapters: Sequence[Chapter], *, strict: bool = True) -> str:
    """`0:00 Title` lines for a video description.

    With `strict` (the default) raises ChapterError when YouTube would not accept
    the list; with strict=False formats whatever there is.
    """
    if strict:
        problem = youtube_problem(chapters)
        if problem:
            raise ChapterError(f"cannot publish YouTube chapters: {problem}")
    return "\n".join(f"{format_timestamp(c.start)} {c.title}" for c in chapters)
