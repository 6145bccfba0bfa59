"""Subtitles (SRT and WebVTT) from a transcript's word timings.

One timeline model (a list of `Cue`) and one writer per format. Cues follow common
subtitle practice: at most two lines of ~42 characters, a new cue at each sentence end
and each pause, long cues broken after a comma rather than anywhere, and never inside a
word. A clip gets its own cues with `cues_for_span`, rebased to start at 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import srt

from highlights.types import Transcript, TranscriptSegment, Word

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0
MIN_CUE_SECONDS = 0.7  # shorter cues flash by unread; extended into the following gap
PAUSE_BREAK_SECONDS = 1.0
_SENTENCE_END = (".", "?", "!", "…", '."', '?"', '!"')
_CLAUSE_END = (",", ";", ":", "—", "-")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # one or two lines joined by "\n"

    @property
    def duration(self) -> float:
        return self.end - self.start


# -- building cues ------------------------------------------------------------------------


ORPHAN_CHARS = 14  # a sentence tail this short is not left alone in a cue


def segment_words(segment: TranscriptSegment) -> list[Word]:
    """The segment's words, or its text spread over its time by length when it has none."""
    if segment.words:
        return [w for w in segment.words if w.text.strip()]
    tokens = segment.text.split()
    if not tokens:
        return []
    weights = [len(t) + 1 for t in tokens]
    per_unit = (segment.end - segment.start) / sum(weights)
    words, t = [], segment.start
    for token, weight in zip(tokens, weights, strict=True):
        words.append(Word(t, t + weight * per_unit, token))
        t += weight * per_unit
    return words


def _layout(texts: Sequence[str], max_chars: int, max_lines: int) -> list[str] | None:
    """Lines for these words, or None when they do not fit. Two lines are balanced, and a
    break after punctuation is preferred; a single over-long word gets a line to itself."""
    one = " ".join(texts)
    if len(one) <= max_chars or len(texts) == 1:
        return [one]
    if max_lines < 2:
        return None
    if max_lines == 2:
        best: tuple[float, int] | None = None
        for k in range(1, len(texts)):
            first, second = " ".join(texts[:k]), " ".join(texts[k:])
            if len(first) > max_chars or len(second) > max_chars:
                continue
            score = abs(len(first) - len(second)) - (8 if texts[k - 1].endswith(_CLAUSE_END) else 0)
            if best is None or score < best[0]:
                best = (score, k)
        if best is None:
            return None
        return [" ".join(texts[: best[1]]), " ".join(texts[best[1] :])]
    lines: list[str] = []  # more than two lines: greedy fill
    for text in texts:
        if lines and len(lines[-1]) + 1 + len(text) <= max_chars:
            lines[-1] += " " + text
        else:
            lines.append(text)
    return lines if len(lines) <= max_lines else None


def _cues_from_words(
    words: Sequence[Word], max_chars: int, max_lines: int, max_seconds: float
) -> list[Cue]:
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if current:
            last = current[-1]
            candidate = [w.text.strip() for w in current] + [word.text.strip()]
            gap = word.start - last.end
            shown = sum(len(w.text.strip()) + 1 for w in current)
            # A pause ends a cue, unless only a word or two would be left on screen
            # alone (Whisper often times a sentence's first word early, before a pause).
            if last.text.strip().endswith(_SENTENCE_END) or (
                gap > PAUSE_BREAK_SECONDS and (shown >= 12 or gap > 3 * PAUSE_BREAK_SECONDS)
            ):
                groups.append(current)
                current = []
            elif (
                word.end - current[0].start > max_seconds
                or _layout(candidate, max_chars, max_lines) is None
            ):
                # Full: end the cue after the latest comma in its second half if any,
                # so the reader gets whole clauses.
                split = len(current)
                for k in range(len(current) - 1, len(current) // 2 - 1, -1):
                    if current[k].text.strip().endswith(_CLAUSE_END):
                        split = k + 1
                        break
                groups.append(current[:split])
                current = current[split:]
        current.append(word)
    if current:
        groups.append(current)
    _rebalance_tails(groups, max_chars, max_lines)
    cues = []
    for group in groups:
        lines = _layout([w.text.strip() for w in group], max_chars, max_lines)
        text = "\n".join(lines) if lines else " ".join(w.text.strip() for w in group)
        start, end = float(group[0].start), float(group[-1].end)
        cues.append(Cue(start, max(end, start), text))
    return cues


def _chars(words: Sequence[Word]) -> int:
    return sum(len(w.text.strip()) + 1 for w in words)


def _rebalance_tails(groups: list[list[Word]], max_chars: int, max_lines: int) -> None:
    """Give a sentence's orphaned last word or two some company from the cue before.

    A full cue followed by a flash of "it." is hard to read; moving words back until the
    two cues are about even keeps both on screen long enough and reads as two phrases.
    """
    for i in range(1, len(groups)):
        before, tail = groups[i - 1], groups[i]
        if before[-1].text.strip().endswith(_SENTENCE_END):
            continue
        if len(tail) > 2 or _chars(tail) > ORPHAN_CHARS:
            continue
        while len(before) > 1:
            moved = [before[-1], *tail]
            if _chars(moved) > _chars(before[:-1]):
                break
            if _layout([w.text.strip() for w in moved], max_chars, max_lines) is None:
                break
            before, tail = before[:-1], moved
        groups[i - 1], groups[i] = before, tail


def _tidy(cues: list[Cue]) -> list[Cue]:
    """Millisecond times, no overlaps, no zero-length cues, short cues stretched a little."""
    tidy: list[Cue] = []
    for i, cue in enumerate(cues):
        start = round(cue.start, 3)
        if tidy:
            start = max(start, tidy[-1].end)
        next_start = round(cues[i + 1].start, 3) if i + 1 < len(cues) else float("inf")
        end = max(round(cue.end, 3), min(start + MIN_CUE_SECONDS, next_start))
        end = round(min(end, max(next_start, start)), 3)
        if end - start >= 0.001:
            tidy.append(Cue(start, end, cue.text))
    return tidy


def build_cues(
    segments: Iterable[TranscriptSegment],
    *,
    max_line_chars: int = MAX_LINE_CHARS,
    max_lines: int = MAX_LINES,
    max_cue_seconds: float = MAX_CUE_SECONDS,
) -> list[Cue]:
    """Cues for these segments; a cue never spans two segments."""
    cues: list[Cue] = []
    for segment in segments:
        cues.extend(
            _cues_from_words(segment_words(segment), max_line_chars, max_lines, max_cue_seconds)
        )
    cues.sort(key=lambda c: c.start)
    return _tidy(cues)


def transcript_cues(transcript: Transcript) -> list[Cue]:
    return build_cues(transcript.segments)


def cues_for_span(
    transcript: Transcript, start: float, end: float, *, rebase: bool = True
) -> list[Cue]:
    """Cues for the words spoken in [start, end] (by each word's midpoint), clipped to the
    span; with `rebase`, times are relative to `start` (a clip's own timeline)."""
    if end <= start:
        raise ValueError(f"empty span: start {start} is not before end {end}")
    inside: list[TranscriptSegment] = []
    for segment in transcript.segments:
        if segment.end < start or segment.start > end:
            continue
        words = [w for w in segment_words(segment) if start <= (w.start + w.end) / 2 <= end]
        if words:
            inside.append(TranscriptSegment(segment.start, segment.end, segment.text, None, words))
    offset = start if rebase else 0.0
    clipped = []
    for cue in build_cues(inside):
        a, b = max(cue.start, start), min(cue.end, end)
        if b - a >= 0.05:
            clipped.append(Cue(round(float(a - offset), 3), round(float(b - offset), 3), cue.text))
    return clipped


# -- writing ------------------------------------------------------------------------------


def _subtitles(cues: Sequence[Cue]) -> list[srt.Subtitle]:
    return [
        srt.Subtitle(
            index=i,
            start=timedelta(milliseconds=round(c.start * 1000)),
            end=timedelta(milliseconds=round(c.end * 1000)),
            content=c.text,
        )
        for i, c in enumerate(cues, start=1)
    ]


def cues_to_srt(cues: Sequence[Cue]) -> str:
    return srt.compose(_subtitles(cues))


def _vtt_timestamp(delta: timedelta) -> str:
    ms = delta // timedelta(milliseconds=1)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _vtt_text(content: str) -> str:
    # WebVTT cue text is markup: &, < and > must be escaped, and a blank line would end
    # the cue early.
    escaped = content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "\n".join(line for line in escaped.splitlines() if line.strip())


def cues_to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT from the same subtitles the SRT writer uses (srt.make_legal_content applied)."""
    blocks = ["WEBVTT", ""]
    for sub in _subtitles(cues):
        text = _vtt_text(srt.make_legal_content(sub.content))
        if not text:
            continue
        blocks += [f"{_vtt_timestamp(sub.start)} --> {_vtt_timestamp(sub.end)}", text, ""]
    return "\n".join(blocks)


def write_srt(cues: Sequence[Cue], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(cues_to_srt(cues), encoding="utf-8")
    return path


def write_vtt(cues: Sequence[Cue], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(cues_to_vtt(cues), encoding="utf-8")
    return path


def transcript_to_srt(transcript: Transcript) -> str:
    return cues_to_srt(transcript_cues(transcript))


def transcript_to_vtt(transcript: Transcript) -> str:
    return cues_to_vtt(transcript_cues(transcript))
