"""From a model's raw segments to clean, continuous TranscriptSegments.

Shared by every provider so that confidence, hallucination filtering and timestamp
hygiene mean the same thing whichever model produced the text.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from highlights.types import SilenceRegion, TranscriptSegment, Word

# Whisper's own "this window was silence" rule (openai/whisper transcribe.py): a segment
# is dropped when the no-speech probability is high AND the text was unlikely.
NO_SPEECH_PROB_THRESHOLD = 0.6
LOW_LOGPROB_THRESHOLD = -1.0
# Whisper invents text ("Thank you for watching.") in long silences with a *low*
# no-speech probability, so a segment whose words lie mostly inside measured pauses is
# dropped too. Judged by words, not by the segment's span: with VAD, faster-whisper
# returns segments that stretch over the silence it skipped (speech at 14 s and at 40 s
# in one 13-40 s segment), and those are real speech.
MAX_SILENT_SHARE = 0.75
# Words this far apart are two utterances with a pause between: the segment is split
# there, so no segment (nor subtitle, nor clip boundary) claims a silence as speech.
SPLIT_GAP_SECONDS = 2.0


@dataclass
class RawSegment:
    """One segment as a model returned it, times already in recording seconds."""

    start: float
    end: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class DroppedSegment:
    start: float
    end: float
    text: str
    reason: str  # "no_speech" | "in_silence" | "empty"

    def to_dict(self) -> dict[str, object]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "reason": self.reason,
        }


def confidence_from_logprob(avg_logprob: float | None) -> float | None:
    """exp(avg_logprob) clamped to 0-1: the geometric mean of the token probabilities.

    avg_logprob is the mean log-probability per token, so its exponential reads as "how
    likely each token was, on average": -0.1 -> 0.90, -0.5 -> 0.61, -1.0 -> 0.37 (the
    level Whisper itself treats as failed decoding).
    """
    if avg_logprob is None or math.isnan(avg_logprob):
        return None
    return min(1.0, max(0.0, math.exp(avg_logprob)))


def segment_confidence(segment: RawSegment) -> float | None:
    """The same measure per segment: from its words' probabilities when the model gives
    them (faster-whisper reports one avg_logprob for a whole 30 s decoding window, which
    would give every segment in it the same score), else from avg_logprob."""
    probabilities = [w.probability for w in segment.words if w.probability is not None]
    if probabilities:
        mean_log = sum(math.log(max(p, 1e-6)) for p in probabilities) / len(probabilities)
        return round(confidence_from_logprob(mean_log) or 0.0, 4)
    confidence = confidence_from_logprob(segment.avg_logprob)
    return None if confidence is None else round(confidence, 4)


def silent_share(start: float, end: float, silences: list[SilenceRegion]) -> float:
    """The share of [start, end] that lies inside the given silences (assumed disjoint)."""
    length = end - start
    if length <= 0:
        return 0.0
    covered = sum(max(0.0, min(end, s.end) - max(start, s.start)) for s in silences)
    return min(1.0, covered / length)


def drop_reason(segment: RawSegment, long_pauses: list[SilenceRegion]) -> str | None:
    if not segment.text.strip():
        return "empty"
    if (
        segment.no_speech_prob is not None
        and segment.avg_logprob is not None
        and segment.no_speech_prob > NO_SPEECH_PROB_THRESHOLD
        and segment.avg_logprob < LOW_LOGPROB_THRESHOLD
    ):
        return "no_speech"
    if segment.words:
        mids = [(w.start + w.end) / 2 for w in segment.words]
        silent = sum(any(p.start <= m <= p.end for p in long_pauses) for m in mids)
        share = silent / len(mids)
    else:
        share = silent_share(segment.start, segment.end, long_pauses)
    if share >= MAX_SILENT_SHARE:
        return "in_silence"
    return None


def marks_word_starts(words: Sequence[Word]) -> bool:
    """Whether the recogniser marks each new word with a leading space (Whisper does; the
    OpenAI API's words carry none), so a token without one continues the word before it."""
    later = [w for w in words[1:] if w.text.strip()]
    return bool(later) and sum(w.text[:1].isspace() for w in later) >= 0.5 * len(later)


def whole_words(words: Sequence[Word]) -> list[Word]:
    """Tokens that continue a word ("water" + "-loving", "it" + "'s") joined into it, so
    that nothing downstream (sentences, cues, captions) puts a space inside a word."""
    spaced = marks_word_starts(words)
    joined: list[Word] = []
    for w in words:
        text = w.text.strip()
        if not text:
            continue
        if spaced and joined and not w.text[:1].isspace():
            last = joined[-1]
            probability = (
                min(last.probability, w.probability)
                if last.probability is not None and w.probability is not None
                else last.probability
            )
            joined[-1] = Word(last.start, max(last.end, w.end), last.text + text, probability)
        else:
            joined.append(Word(w.start, w.end, text, w.probability))
    return joined


def split_at_gaps(segment: RawSegment, gap: float = SPLIT_GAP_SECONDS) -> list[RawSegment]:
    """The segment cut where consecutive words are `gap` seconds apart or more."""
    words = whole_words(sorted((w for w in segment.words if w.text.strip()), key=lambda w: w.start))
    cuts = [i for i in range(1, len(words)) if words[i].start - words[i - 1].end >= gap]
    return _cut(segment, words, cuts, lambda group: " ".join(w.text.strip() for w in group))


_SENTENCE_END = (".", "?", "!")


def split_at_sentences(segment: RawSegment) -> list[RawSegment]:
    """The segment cut after each word that ends a sentence (the next one is capitalised).

    faster-whisper's batched decoder returns a whole speech piece of up to 30 s as one
    segment; cut into sentences, its segments are the size the sequential decoder gives,
    so search hits, stored rows and subtitle cues stay phrase-sized. Scores stay the
    piece's: the model gives no finer ones.
    """
    words = segment.words
    cuts = [
        i + 1
        for i in range(len(words) - 1)
        if words[i].text.strip().endswith(_SENTENCE_END) and words[i + 1].text.strip()[:1].isupper()
    ]
    return _cut(segment, words, cuts, lambda group: "".join(w.text for w in group).strip())


def _cut(segment: RawSegment, words: Sequence[Word], cuts: list[int],
         text: Callable[[Sequence[Word]], str]) -> list[RawSegment]:
    """The segment in pieces starting at word indices `cuts`; the first and last pieces keep
    the segment's own edges, every piece its scores."""
    if not cuts:
        return [segment]
    parts: list[RawSegment] = []
    for k, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(words)], strict=True)):
        group = words[a:b]
        parts.append(
            RawSegment(
                start=segment.start if k == 0 else group[0].start,
                end=segment.end if b == len(words) else group[-1].end,
                text=text(group),
                avg_logprob=segment.avg_logprob,
                no_speech_prob=segment.no_speech_prob,
                words=list(group),
            )
        )
    return parts


def attach_words(segments: list[RawSegment], words: list[Word]) -> None:
    """Give each word to the segment its midpoint falls in (or the nearest one).

    The API returns words as one flat list beside the segments.
    """
    if not segments:
        return
    starts = [s.start for s in segments]
    for word in words:
        mid = (word.start + word.end) / 2
        i = max(0, bisect.bisect_right(starts, mid) - 1)
        if i + 1 < len(segments) and mid > segments[i].end:
            gap_before = mid - segments[i].end
            gap_after = segments[i + 1].start - mid
            if gap_after < gap_before:
                i += 1
        segments[i].words.append(word)


def shift(segment: RawSegment, offset: float, lo: float, hi: float) -> RawSegment:
    """Move a chunk-relative segment to recording time, clamped inside its chunk [lo, hi]."""

    def place(t: float) -> float:
        return float(min(hi, max(lo, t + offset)))

    return RawSegment(
        start=place(segment.start),
        end=place(segment.end),
        text=segment.text,
        avg_logprob=segment.avg_logprob,
        no_speech_prob=segment.no_speech_prob,
        words=[Word(place(w.start), place(w.end), w.text, w.probability) for w in segment.words],
    )


def finalize(
    raw: list[RawSegment], long_pauses: list[SilenceRegion]
) -> tuple[list[TranscriptSegment], list[DroppedSegment]]:
    """Split segments at long word gaps, drop hallucinations, then make times monotonic:
    segments never overlap, words stay inside their segment and in order. Overlaps
    (e.g. at chunk borders) are clamped."""
    kept: list[TranscriptSegment] = []
    dropped: list[DroppedSegment] = []
    prev_end = 0.0
    parts = [part for seg in raw for part in split_at_gaps(seg)]
    for seg in sorted(parts, key=lambda s: (s.start, s.end)):
        reason = drop_reason(seg, long_pauses)
        if reason is not None:
            dropped.append(DroppedSegment(seg.start, seg.end, seg.text.strip(), reason))
            continue
        start = max(seg.start, prev_end)
        end = max(seg.end, start)
        words: list[Word] = []
        cursor = start
        for w in whole_words(sorted(seg.words, key=lambda w: w.start)):
            text = w.text
            w_start = min(max(w.start, cursor), end)
            w_end = min(max(w.end, w_start), end)
            words.append(Word(round(w_start, 3), round(w_end, 3), text, w.probability))
            cursor = w_end
        kept.append(
            TranscriptSegment(
                start=round(start, 3),
                end=round(end, 3),
                text=" ".join(seg.text.split()),
                confidence=segment_confidence(seg),
                words=words,
            )
        )
        prev_end = end
    return kept, dropped


def dropped_notes(dropped: list[DroppedSegment]) -> list[str]:
    """One line per kind of dropped segment, for the processing log."""
    why = {
        "in_silence": "text Whisper produced inside pauses (hallucination)",
        "no_speech": "segments Whisper itself judged as no speech",
        "empty": "empty segments",
    }
    counts: dict[str, int] = {}
    for d in dropped:
        counts[d.reason] = counts.get(d.reason, 0) + 1
    return [f"dropped {n} {why.get(reason, reason)}" for reason, n in counts.items()]
