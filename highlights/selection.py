"""Pick the highlight clips: which spans of the lecture become short videos.

One clip per content segment, most important segments first. A clip is a contiguous
run of whole sentences (from the word timings), so it never starts or ends mid-word or
mid-sentence; it starts at its first word and ends at its last, plus a small padding
that never reaches into the neighbouring words.

- A segment longer than `max_seconds` is cut to its strongest run of sentences (scored
  by lecturer cue phrases, the segment's keywords, and dead air), not dropped.
- A segment shorter than `min_seconds` borrows neighbouring sentences when the pauses
  between them are short and the segment still owns at least half of the clip;
  otherwise it is skipped.
- A lecture whose whole speech is shorter than `min_seconds` gives one clip of all of
  its speech (there is nothing longer to give), credited to its most important segment.
- A transcript without word timings falls back to its segments as sentence units,
  trimmed of audio silence at their edges; a lecture without any speech falls back to
  the content segments' own times, trimmed of silence.

Sentence borders are words ending in . ? ! (or …), with a few common abbreviations
excluded, and pauses of `LONG_PAUSE_SECONDS` or more. They come from the word timings,
never from transcript segment borders, which fall at word gaps and at the recogniser's
30-second windows, often inside a sentence. Only a transcript with no punctuation at all
(some APIs strip it) uses its segment ends as borders, after borrowing punctuation from
the segment text where the two line up. A single "sentence" longer than `max_seconds`
(an unpunctuated ramble) is split at its longest pauses.

When no run of whole sentences fits the length limits, the clip runs up to
`overrun_seconds` over the maximum (a clip a few seconds long is better than a cut
sentence) and says so in its notes. Among windows that fit, complete thoughts win: a
start at a sentence that opens an idea ("So", "Now", a definition, a question), not at
a dangling reference ("That is why", "It"); an end where the next sentence does not lean
back on this one.

Distinct highlights: two clips never share a topic title (a recap slide, a repeated
section) or near-identical words.

Everything is deterministic: ties break on start time and segment index.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from highlights.errors import HighlightsError
from highlights.titles import clean_title, normalize
from highlights.types import (
    ClipPlan,
    ContentAnalysis,
    SilenceRegion,
    TopicSegment,
    Transcript,
    Word,
)

log = logging.getLogger(__name__)


class SelectionError(HighlightsError, ValueError):
    """The selection options or inputs cannot produce clips; the message says which."""


@dataclass(frozen=True)
class SelectionOptions:
    count: int = 5
    min_seconds: float = 30.0
    max_seconds: float = 90.0
    padding: float = 0.25  # seconds added after the last word ...
    # ... and before the first: less, because recognisers place a word's start early
    # (at the end of the pause before it), so the clip already opens in that pause.
    lead_padding: float = 0.1
    # Longest pause that a short segment may bridge when it borrows a neighbouring
    # sentence; a longer pause usually means the lecturer moved on.
    max_join_gap: float = 2.5
    # A short segment extended with neighbours must still own this share of the clip,
    # or the clip would be about something else.
    min_own_share: float = 0.5
    # How far a clip may run past max_seconds when no whole sentences fit inside it.
    overrun_seconds: float = 8.0
    # Clips whose words overlap this much (word-trigram Jaccard) say the same thing.
    max_shared_words: float = 0.5

    def validate(self) -> None:
        if self.count < 1:
            raise SelectionError(f"clip count must be at least 1, got {self.count}")
        if self.min_seconds <= 0:
            raise SelectionError(
                f"minimum clip length must be positive, got {self.min_seconds:g} s"
            )
        if self.max_seconds < self.min_seconds:
            raise SelectionError(
                f"maximum clip length {self.max_seconds:g} s is shorter than the minimum "
                f"{self.min_seconds:g} s"
            )
        if self.padding < 0 or self.lead_padding < 0:
            raise SelectionError(
                f"padding must not be negative, got {min(self.padding, self.lead_padding):g} s"
            )
        if self.overrun_seconds < 0:
            raise SelectionError(
                f"overrun must not be negative, got {self.overrun_seconds:g} s"
            )


@dataclass(frozen=True)
class Sentence:
    """A unit a clip may start or end on: a sentence, or a word-less transcript segment."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def mid(self) -> float:
        return (self.start + self.end) / 2


# --- sentence borders -------------------------------------------------------------

_TRAILING_CLOSERS = "\"'”’)]}»"
_SENTENCE_END = (".", "?", "!", "…")
# Lower-cased tokens that end in a full stop without ending a sentence.
_ABBREVIATIONS = frozenset(
    {
        "e.g.",
        "i.e.",
        "dr.",
        "mr.",
        "mrs.",
        "ms.",
        "prof.",
        "vs.",
        "fig.",
        "cf.",
        "approx.",
        "eq.",
        "sec.",
        "ch.",
        "st.",
        "jr.",
        "sr.",
        "al.",
    }
)
_NORMALISE = re.compile(r"[^\w]+", re.UNICODE)


def ends_sentence(token: str) -> bool:
    """True when a word (as transcribed, with punctuation) closes a sentence."""
    text = token.strip().rstrip(_TRAILING_CLOSERS)
    if not text.endswith(_SENTENCE_END):
        return False
    return text.lower().lstrip("\"'“‘([{«") not in _ABBREVIATIONS


def _norm(token: str) -> str:
    return _NORMALISE.sub("", token.lower())


def _borrowed_sentence_ends(words: Sequence[Word], segment_text: str) -> list[bool] | None:
    """Sentence-end flags for unpunctuated words, aligned from the segment's text.

    Returns None when the text has no sentence punctuation or does not line up.
    """
    tokens = segment_text.split()
    if not any(ends_sentence(t) for t in tokens):
        return None
    flags = [False] * len(words)
    t = 0
    matched = 0
    for i, word in enumerate(words):
        key = _norm(word.text)
        # Look a few tokens ahead: transcribers sometimes split or merge tokens.
        for look in range(t, min(t + 4, len(tokens))):
            if _norm(tokens[look]) == key:
                flags[i] = ends_sentence(tokens[look])
                t = look + 1
                matched += 1
                break
    return flags if matched >= max(1, len(words) * 0.8) else None


# A pause this long ends a sentence even without punctuation.
LONG_PAUSE_SECONDS = 1.5


def split_sentences(transcript: Transcript, max_seconds: float | None = None) -> list[Sentence]:
    """Cut a transcript into sentences from its word timings, in time order."""
    sentences: list[Sentence] = []
    pending: list[Word] = []
    punctuated = any(
        ends_sentence(token)
        for seg in transcript.segments
        for token in [*(w.text for w in seg.words), *seg.text.split()]
    )

    def flush() -> None:
        if pending:
            text = " ".join(w.text.strip() for w in pending)
            sentences.append(Sentence(pending[0].start, pending[-1].end, text, tuple(pending)))
            pending.clear()

    for segment in sorted(transcript.segments, key=lambda s: (s.start, s.end)):
        words = sorted((w for w in segment.words if w.text.strip()), key=lambda w: w.start)
        if not words:
            flush()
            if segment.text.strip() and segment.end > segment.start:
                sentences.append(Sentence(segment.start, segment.end, segment.text.strip()))
            continue
        flags = [ends_sentence(w.text) for w in words]
        if not any(flags):
            borrowed = _borrowed_sentence_ends(words, segment.text)
            if borrowed is not None:
                flags = borrowed
            elif not punctuated:
                # No punctuation anywhere: the segment end is the only border we have.
                flags = [False] * (len(words) - 1) + [True]
            # else: a punctuated transcript's segment without a sentence end stops at a
            # window or word gap; its sentence goes on in the next segment.
        for word, is_end in zip(words, flags, strict=True):
            if pending and word.start - pending[-1].end >= LONG_PAUSE_SECONDS:
                flush()
            pending.append(word)
            if is_end:
                flush()
    flush()
    if max_seconds is not None:
        sentences = [piece for s in sentences for piece in _split_long(s, max_seconds)]
    return sentences


def _split_long(sentence: Sentence, max_seconds: float) -> list[Sentence]:
    """Split a sentence longer than max_seconds at its longest pause, recursively."""
    words = sentence.words
    if sentence.duration <= max_seconds or len(words) < 2:
        return [sentence]
    middle = (sentence.start + sentence.end) / 2
    cut = max(
        range(1, len(words)),
        key=lambda i: (round(words[i].start - words[i - 1].end, 3), -abs(words[i].start - middle)),
    )
    parts = []
    for chunk in (words[:cut], words[cut:]):
        text = " ".join(w.text.strip() for w in chunk)
        parts.append(Sentence(chunk[0].start, chunk[-1].end, text, tuple(chunk)))
    return [p for part in parts for p in _split_long(part, max_seconds)]


# --- scoring -----------------------------------------------------------------------

# Phrases lecturers use when something matters; weights are relative.
_CUES: dict[str, float] = {
    "important": 2.0,
    "importantly": 2.0,
    "key idea": 2.0,
    "key point": 2.0,
    "the key": 1.5,
    "remember": 2.0,
    "crucial": 2.0,
    "essential": 1.5,
    "fundamental": 1.5,
    "in summary": 2.0,
    "to summarize": 2.0,
    "to sum up": 2.0,
    "in conclusion": 2.0,
    "main idea": 2.0,
    "the point is": 2.0,
    "takeaway": 2.0,
    "big idea": 2.0,
    "on the exam": 2.0,
    "definition": 1.5,
    "is defined as": 2.0,
    "we call this": 1.5,
    "notice that": 1.5,
    "note that": 1.5,
    "the reason": 1.0,
    "because": 0.5,
    "for example": 1.0,
    "for instance": 1.0,
    "in other words": 1.0,
    "this means": 1.0,
    "that means": 1.0,
    "therefore": 1.0,
    "intuition": 1.0,
    "the trick": 1.5,
    "insight": 1.0,
    "think of": 0.5,
    "imagine": 0.5,
    "why": 0.5,
}
# Housekeeping and filler that make poor highlights.
_FILLERS: dict[str, float] = {
    "um": 0.3,
    "uh": 0.3,
    "any questions": 1.5,
    "can you hear me": 2.0,
    "is this working": 2.0,
    "see you next": 1.5,
    "homework": 1.0,
    "office hours": 1.5,
    "let me check": 1.0,
    "where was i": 1.5,
    "take a break": 1.5,
}


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str] | None:
    cleaned = sorted({p.strip().lower() for p in phrases if p and p.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in cleaned) + r")\b")


_CUE_PATTERN = _phrase_pattern(list(_CUES))
_FILLER_PATTERN = _phrase_pattern(list(_FILLERS))


def sentence_score(text: str, keyword_pattern: re.Pattern[str] | None) -> float:
    """How much a sentence sounds like a highlight: cues and topic keywords, minus filler."""
    lowered = text.lower()
    score = 0.0
    if _CUE_PATTERN is not None:
        score += sum(_CUES[m] for m in _CUE_PATTERN.findall(lowered))
    if _FILLER_PATTERN is not None:
        score -= sum(_FILLERS[m] for m in _FILLER_PATTERN.findall(lowered))
    if keyword_pattern is not None:
        score += 1.0 * len(keyword_pattern.findall(lowered))
    return score


# Sentences that open an idea make good clip starts; ones that lean on what came before
# ("That is why...", "It...") make poor ones.
_OPENS_IDEA = re.compile(
    r"^(?:so|now|today|okay|ok|alright|first|next|finally|let's|let us|here|consider|"
    r"suppose|imagine|recall|remember|the (?:key|main|big|first|next|second)|what|why|how|"
    r"when|there are|a |an )\b",
    re.IGNORECASE,
)
_DEFINES = re.compile(
    r"\b(?:is|are) (?:called|defined as|known as)\b|\bwe call\b|\bmeans that\b", re.IGNORECASE
)
_LEANS_BACK = re.compile(
    r"^(?:that|this|these|those|it|its|it's|they|them|their|he|she|which|and|but|or|also|"
    r"then|because|thus|hence|therefore|as a result|so that|that's|this is why|otherwise|"
    r"instead|however|both|either)\b",
    re.IGNORECASE,
)


def _opening(text: str) -> str:
    return text.strip().lstrip("\"'“‘([{«").strip()


def start_quality(sentence: Sentence) -> float:
    """How well a clip starts at this sentence: + opens an idea, - leans back."""
    text = _opening(sentence.text)
    if _LEANS_BACK.match(text):
        return -1.5
    if _OPENS_IDEA.match(text) or _DEFINES.search(text) or text.rstrip().endswith("?"):
        return 1.0
    return 0.0


def end_quality(units: Sequence[Sentence], j: int) -> float:
    """How well a clip ends after sentence j: - when the next one leans back on it."""
    if j + 1 >= len(units):
        return 0.5
    following = _opening(units[j + 1].text)
    if _LEANS_BACK.match(following):
        return -1.0
    pause = units[j + 1].start - units[j].end
    return 0.5 if _OPENS_IDEA.match(following) or pause >= LONG_PAUSE_SECONDS else 0.0


def _dead_air(
    start: float,
    end: float,
    silences: Sequence[SilenceRegion],
    units: Sequence[Sentence],
    i: int,
    j: int,
) -> float:
    """Seconds inside [start, end] with nothing said or shown (`silences` sorted by start)."""
    if silences:
        # Audio silences and blank screens overlap ("both"): count each second once.
        total, reach = 0.0, start
        for s in silences:
            if s.start >= end:
                break
            a, b = max(reach, s.start), min(end, s.end)
            if b > a:
                total += b - a
                reach = b
        return total
    # No silence map: long pauses between sentences stand in for it.
    return sum(max(0.0, units[k + 1].start - units[k].end - 1.0) for k in range(i, j))


# --- selection ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    first: int
    last: int
    score: float


def fit_to_lecture(
    options: SelectionOptions,
    duration: float,
    share: float,
    *,
    count_chosen: bool = False,
    length_chosen: bool = False,
) -> tuple[SelectionOptions, str | None]:
    """The default clip plan kept to `share` of a short lecture, and a note saying so.

    Five clips of up to 90 s suit an hour; on an 8-minute lecture they could be seven and
    a half of its eight minutes (four clips of 87-90 s in the benchmark), a re-edit rather
    than highlights, and each costs a render.
    Whatever the user did not choose shrinks: the count to what fits at a typical length
    (halfway between the limits), then the longest length to share out what is left, never
    under the minimum. A count or maximum the user chose is kept as it is.
    """
    budget = share * duration
    if duration <= 0 or options.count * options.max_seconds <= budget + 1e-6:
        return options, None
    count, longest = options.count, options.max_seconds
    if not count_chosen:
        typical = (options.min_seconds + options.max_seconds) / 2
        count = max(1, min(count, int(budget // typical)))
    if not length_chosen:
        longest = min(longest, max(options.min_seconds, budget / count))
    if (count, longest) == (options.count, options.max_seconds):
        return options, None
    fitted = replace(options, count=count, max_seconds=longest)
    note = (
        f"{duration / 60:.1f} minutes of lecture: {count} clip{'s' if count != 1 else ''} of at "
        f"most {longest:.0f} s, about {share:.0%} of it (choose --clips and --max-len for others)"
    )
    return fitted, note


def select_clips(
    analysis: ContentAnalysis,
    transcript: Transcript,
    silences: list[SilenceRegion],
    duration: float,
    options: SelectionOptions | None = None,
    pauses: Sequence[tuple[float, float]] = (),
) -> list[ClipPlan]:
    """Choose up to `options.count` clips, ranked 1 (most important) to N.

    `pauses` are the short gaps in the audio (a few tenths of a second and up): where a
    recogniser stretched a clip's first or last word into the pause around it, the
    clip's edge moves to where the voice really starts or stops.
    """
    options = options or SelectionOptions()
    options.validate()
    if not duration or duration <= 0:
        raise SelectionError(f"lecture duration must be positive, got {duration!r}")
    segments = analysis.segments
    if not segments:
        return []
    silences = sorted(silences, key=lambda s: (s.start, s.end))
    units = _units(transcript, silences, duration, options.max_seconds + options.overrun_seconds)
    if not units:
        return _plans_without_speech(segments, silences, duration, options)

    speech_span = units[-1].end - units[0].start
    if speech_span < options.min_seconds:
        best = _by_importance(segments)[0]
        log.info(
            "speech lasts %.1f s, under the %.0f s minimum: one clip of all of it",
            speech_span,
            options.min_seconds,
        )
        start, end = _padded(
            units, 0, len(units) - 1, options.padding, duration, options.lead_padding
        )
        seg = segments[best]
        return [ClipPlan(start, end, best, _title(seg), seg.topic, seg.importance_score, 1)]

    used = [False] * len(units)
    chosen: list[tuple[int, _Candidate]] = []
    for seg_index in _by_importance(segments):
        if len(chosen) == options.count:
            break
        seg = segments[seg_index]
        if any(_same_title(seg, segments[other]) for other, _ in chosen):
            log.info("segment %d (%r) repeats a chosen topic: skipped", seg_index, seg.topic)
            continue
        candidate = _best_candidate(seg, units, used, silences, options)
        if candidate is not None and any(
            _shared_words(units, candidate, other) > options.max_shared_words for _, other in chosen
        ):
            log.info("segment %d (%r) says what a chosen clip says: skipped", seg_index, seg.topic)
            continue
        if candidate is None:
            log.info(
                "segment %d (%r) gives no clip between %.0f and %.0f s",
                seg_index,
                seg.topic,
                options.min_seconds,
                options.max_seconds,
            )
            continue
        for k in range(candidate.first, candidate.last + 1):
            used[k] = True
        chosen.append((seg_index, candidate))

    chosen.sort(
        key=lambda c: (-segments[c[0]].importance_score, -c[1].score, units[c[1].first].start, c[0])
    )
    plans = []
    for rank, (seg_index, cand) in enumerate(chosen, start=1):
        seg = segments[seg_index]
        start, end = _padded(
            units, cand.first, cand.last, options.padding, duration, options.lead_padding,
            pauses,
        )
        notes = []
        spoken = units[cand.last].end - units[cand.first].start
        if spoken > options.max_seconds + 1e-6:
            notes.append(
                f"runs {spoken - options.max_seconds:.1f} s over the {options.max_seconds:g} s "
                "maximum to keep whole sentences"
            )
        plans.append(
            ClipPlan(start, end, seg_index, _title(seg), seg.topic, seg.importance_score, rank,
                     notes)
        )
    return plans


_PART = re.compile(r"\s*\(part \d+\)\s*$", re.IGNORECASE)


def _title_key(topic: str) -> str:
    return normalize(clean_title(_PART.sub("", topic)))


def _same_title(a: TopicSegment, b: TopicSegment) -> bool:
    """Two segments on one topic title (a recap, a repeated section, a "(cont.)")."""
    key = _title_key(a.topic)
    return bool(key) and key == _title_key(b.topic)


def _trigrams(units: Sequence[Sentence], cand: _Candidate) -> set[tuple[str, ...]]:
    words = [_norm(w) for u in units[cand.first : cand.last + 1] for w in u.text.split()]
    words = [w for w in words if w]
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def _shared_words(units: Sequence[Sentence], a: _Candidate, b: _Candidate) -> float:
    """Jaccard overlap of the two windows' word trigrams: near 1 for repeated text."""
    ta, tb = _trigrams(units, a), _trigrams(units, b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def _by_importance(segments: Sequence[TopicSegment]) -> list[int]:
    return sorted(
        range(len(segments)), key=lambda i: (-segments[i].importance_score, segments[i].start, i)
    )


def _title(segment: TopicSegment) -> str:
    return " ".join(segment.topic.split()) or "Highlight"


def _units(
    transcript: Transcript, silences: Sequence[SilenceRegion], duration: float, max_seconds: float
) -> list[Sentence]:
    units = []
    for s in split_sentences(transcript, max_seconds=max_seconds):
        if s.start >= duration:
            continue
        if not s.words:
            # A segment without word timings may start or end in a pause; trim it
            # to where the audio is not silent.
            start, end = _trim_silence(s.start, min(s.end, duration), silences)
            if end - start < 0.2:
                continue
            s = Sentence(start, end, s.text)
        elif s.end > duration:
            s = Sentence(s.start, duration, s.text, s.words)
        units.append(s)
    return units


def _trim_silence(
    start: float, end: float, silences: Sequence[SilenceRegion]
) -> tuple[float, float]:
    audio = [r for r in silences if r.silence_type in ("audio_silence", "both")]
    changed = True
    while changed and end > start:
        changed = False
        for r in audio:
            if r.start <= start < r.end:
                start, changed = r.end, True
            if r.start < end <= r.end:
                end, changed = r.start, True
    return start, max(start, end)


def voice_edges(
    first: tuple[float, float], last: tuple[float, float], pauses: Sequence[tuple[float, float]]
) -> tuple[float, float]:
    """Where the voice starts and stops, given the (start, end) of the clip's first and
    last words and the measured pauses in the audio.

    The recogniser's word times are a few tenths of a second loose at a pause: a first
    word after a pause often "begins" where the previous word ended, a last word runs on
    into the silence. The audio is the better witness: when a pause covers the first
    word's start, the voice begins where the pause ends; when it covers the last word's
    end, the voice stops where the pause begins. (A soft onset or a trailing consonant
    that stays below the pause threshold is what the clip's padding is for.) A pause
    that covers most of a word counts too, wherever it sits in the word.
    """
    start, end = first[0], last[1]

    def inside(word: tuple[float, float], pause: tuple[float, float]) -> float:
        return max(0.0, min(word[1], pause[1]) - max(word[0], pause[0]))

    def mostly_silent(word: tuple[float, float], pause: tuple[float, float]) -> bool:
        return inside(word, pause) >= 0.5 * max(word[1] - word[0], 1e-6)

    for pause in pauses:
        if start < pause[1] < end and (
            pause[0] <= first[0] < pause[1] or mostly_silent(first, pause)
        ):
            start = max(start, pause[1])
        if start < pause[0] < end and (
            pause[0] < last[1] <= pause[1] or mostly_silent(last, pause)
        ):
            end = min(end, pause[0])
    return start, end


def _padded(
    units: Sequence[Sentence],
    first: int,
    last: int,
    padding: float,
    duration: float,
    lead_padding: float | None = None,
    pauses: Sequence[tuple[float, float]] = (),
) -> tuple[float, float]:
    """Pad the clip, stopping halfway to the neighbouring words and inside the file."""
    lead = padding if lead_padding is None else lead_padding
    head, tail = units[first], units[last]
    start, end = voice_edges(
        (head.words[0].start, head.words[0].end) if head.words else (head.start, head.start),
        (tail.words[-1].start, tail.words[-1].end) if tail.words else (tail.end, tail.end),
        pauses,
    )
    before = units[first - 1].end if first > 0 else 0.0
    after = units[last + 1].start if last + 1 < len(units) else duration
    pad_start = min(lead, max(0.0, (start - before) / 2)) if first > 0 else min(lead, start)
    pad_end = (
        min(padding, max(0.0, (after - end) / 2))
        if last + 1 < len(units)
        else min(padding, max(0.0, duration - end))
    )
    return round(max(0.0, start - pad_start), 3), round(min(duration, end + pad_end), 3)


def _best_candidate(
    seg: TopicSegment,
    units: Sequence[Sentence],
    used: Sequence[bool],
    silences: Sequence[SilenceRegion],
    options: SelectionOptions,
) -> _Candidate | None:
    own = [i for i, u in enumerate(units) if seg.start <= u.mid < seg.end and not used[i]]
    if not own:
        return None
    keywords = _phrase_pattern([*seg.keywords, *seg.concepts])
    scores = [sentence_score(u.text, keywords) for u in units]

    def value(i: int, j: int) -> float:
        start, end = units[i].start, units[j].end
        return (
            sum(scores[i : j + 1])
            + 0.02 * (end - start)
            - 0.1 * _dead_air(start, end, silences, units, i, j)
            + start_quality(units[i])
            + end_quality(units, j)
        )

    blocks = _contiguous_blocks(own)
    # Within the limits first; only when no whole sentences fit, a few seconds over.
    for longest in (options.max_seconds, options.max_seconds + options.overrun_seconds):
        best: _Candidate | None = None
        for block in blocks:
            for a_pos, i in enumerate(block):
                for j in block[a_pos:]:
                    span = units[j].end - units[i].start
                    if span > longest:
                        break
                    if span >= options.min_seconds:
                        cand = _Candidate(i, j, value(i, j))
                        if best is None or cand.score > best.score + 1e-9:
                            best = cand
        if best is not None:
            return best
    # Every run of this segment is too short: try the best one, grown with neighbours.
    # (A run long enough that still gave nothing holds sentences too long to fit.)
    short = [b for b in blocks if units[b[-1]].end - units[b[0]].start < options.min_seconds]
    for block in sorted(short, key=lambda b: (-value(b[0], b[-1]), b[0])):
        grown = _extend(block[0], block[-1], units, used, options)
        if grown is not None:
            first, last = grown
            return _Candidate(first, last, value(first, last))
    return None


def _contiguous_blocks(indices: Sequence[int]) -> list[list[int]]:
    blocks: list[list[int]] = []
    for i in indices:
        if blocks and blocks[-1][-1] == i - 1:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    return blocks


def _extend(
    first: int,
    last: int,
    units: Sequence[Sentence],
    used: Sequence[bool],
    options: SelectionOptions,
) -> tuple[int, int] | None:
    own_seconds = units[last].end - units[first].start
    while units[last].end - units[first].start < options.min_seconds:
        options_here = []
        if first > 0 and not used[first - 1]:
            gap = units[first].start - units[first - 1].end
            options_here.append((gap, 1, first - 1, last))
        if last + 1 < len(units) and not used[last + 1]:
            gap = units[last + 1].start - units[last].end
            options_here.append((gap, 0, first, last + 1))  # prefer what follows on ties
        options_here = [
            o
            for o in options_here
            if o[0] <= options.max_join_gap
            and units[o[3]].end - units[o[2]].start <= options.max_seconds
        ]
        if not options_here:
            return None
        _, _, first, last = min(options_here)
    if own_seconds < options.min_own_share * (units[last].end - units[first].start):
        return None
    return first, last


def _plans_without_speech(
    segments: Sequence[TopicSegment],
    silences: Sequence[SilenceRegion],
    duration: float,
    options: SelectionOptions,
) -> list[ClipPlan]:
    """No transcript: clip the content segments themselves, trimmed of silence."""
    plans: list[ClipPlan] = []
    taken: list[tuple[float, float]] = []
    for seg_index in _by_importance(segments):
        if len(plans) == options.count:
            break
        seg = segments[seg_index]
        start, end = _trim_silence(max(0.0, seg.start), min(duration, seg.end), silences)
        end = min(end, start + options.max_seconds)
        if end - start < min(options.min_seconds, duration):
            continue
        if any(start < b and a < end for a, b in taken):
            continue
        taken.append((start, end))
        plans.append(
            ClipPlan(
                round(start, 3),
                round(end, 3),
                seg_index,
                _title(seg),
                seg.topic,
                seg.importance_score,
                len(plans) + 1,
            )
        )
    return plans
