"""Titles, keywords, concepts and descriptions for topic segments, by keyphrase scoring.

Candidates are RAKE-style: maximal runs of content words between stop words and
punctuation, and every 1-4 word stretch of such a run ("the load factor controls" gives
"load factor"). A candidate is identified by its stems, so "hash tables" and "hash table"
count together; it is shown in its most frequent spoken form.

A candidate's score in one topic segment is TF-IDF over the lecture's segments: how often
it is said in this segment, times how rare it is across the other segments, times its
share of all its mentions that fall in this segment. Multi-word phrases said at least
twice get a bonus, because "binary search tree" names a topic better than "tree".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from highlights.content.stopwords import STOP_WORDS
from highlights.content.text import is_content_word, stem

_CLAUSE_SPLIT = re.compile(r"[.,;:!?()\[\]\"“”]+|\s[-–—]+\s")
_TOKEN = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*", re.IGNORECASE)
_SMALL_WORDS = {
    "a",
    "an",
    "and",
    "as",
    "at",
    "by",
    "for",
    "in",
    "of",
    "on",
    "or",
    "the",
    "to",
    "vs",
}
_LEADING_FILLER = re.compile(
    r"^(?:(?:so|now|okay|ok|right|and|but|well|alright|then|also|um|uh|yeah)\b[,\s]*)+",
    re.IGNORECASE,
)
MAX_PHRASE_WORDS = 4
OPENING_WORDS = 8  # content words at the start of a segment that count as its opening
OPENING_BONUS = 1.5
# A multi-word phrase among a segment's first words is most often the lecturer naming the
# topic ("Dynamic programming solves ..."), even when it is never repeated.
OPENING_TITLE_BONUS = 3.0
# Words that introduce a noun phrase. A candidate said right after one of these ("the
# load factor", "of collisions") is a thing, fit for a title; one never said so is more
# likely a verb or an adverb ("allocate", "declared"). A cheap stand-in for a POS tagger.
_NOUN_OPENERS = frozenset(
    """a an the this that these those each every any some no another our your its their his
    her my of in on with into from for by at about between per whose which what two three
    four five several many few both such""".split()  # noqa: SIM905
)


@dataclass
class PhraseStats:
    """Counts of one candidate phrase across the lecture's topic segments."""

    key: tuple[str, ...]
    per_segment: Counter[int] = field(default_factory=Counter)
    surfaces: Counter[str] = field(default_factory=Counter)
    after_opener: int = 0  # occurrences right after a noun-phrase opener
    opening: set[int] = field(default_factory=set)  # segments whose opening words say it
    run_ends: int = 0  # occurrences that end a run of content words
    first_seen: dict[int, int] = field(default_factory=dict)  # segment -> first position

    @property
    def head(self) -> float:
        """0-1: how often a word is the last of its phrase, as nouns heading a phrase are.

        A word always followed by another ("simplest structure", "hash table") is a
        modifier: the phrase, not the word alone, names the topic.
        """
        return min(1.0, 2.0 * self.run_ends / max(self.total, 1))

    @property
    def nominal(self) -> float:
        """0-1: how sure we are this phrase names a thing (see _NOUN_OPENERS)."""
        return min(1.0, 2.0 * self.after_opener / max(self.total, 1))

    @property
    def total(self) -> int:
        return sum(self.per_segment.values())

    @property
    def surface(self) -> str:
        # Most frequent spoken form; ties go to the alphabetically first for determinism.
        return min(self.surfaces.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def candidate_phrases(text: str) -> list[tuple[tuple[str, ...], str, bool, bool]]:
    """Every candidate phrase in a text, in order, as (stem key, surface form, follows a
    noun-phrase opener, ends its run of content words)."""
    found: list[tuple[tuple[str, ...], str, bool, bool]] = []
    for clause in _CLAUSE_SPLIT.split(text.replace("’", "'")):
        run: list[str] = []  # surface forms
        opener = False  # does the current run follow a noun-phrase opener?
        previous = "the"  # a run that opens a clause is most often its subject, a noun phrase
        for token in [*_TOKEN.findall(clause), ""]:
            word = token.lower()
            if word and is_content_word(word):
                if not run:
                    opener = previous in _NOUN_OPENERS
                run.append(_surface(token))
                previous = word
                continue
            for i in range(len(run)):
                for n in range(1, min(MAX_PHRASE_WORDS, len(run) - i) + 1):
                    words = run[i : i + n]
                    key = tuple(stem(w.lower()) for w in words)
                    found.append((key, " ".join(words), opener and i == 0, i + n == len(run)))
            run = []
            previous = word
    return found


def _surface(token: str) -> str:
    """Keep acronyms and brand casing ("ATP", "mRNA"); lower-case plain capitalised words,
    which are mostly sentence starts."""
    if token[1:] != token[1:].lower():
        return token
    return token.lower()


@dataclass
class LectureVocabulary:
    """Phrase counts per topic segment of one lecture."""

    phrases: dict[tuple[str, ...], PhraseStats]
    segment_count: int

    @classmethod
    def build(cls, segment_texts: Sequence[str]) -> LectureVocabulary:
        phrases: dict[tuple[str, ...], PhraseStats] = {}
        for index, text in enumerate(segment_texts):
            opening_words = OPENING_WORDS
            for position, (key, surface, after_opener, run_end) in enumerate(
                candidate_phrases(text)
            ):
                stats = phrases.get(key)
                if stats is None:
                    stats = phrases[key] = PhraseStats(key)
                stats.first_seen.setdefault(index, position)
                stats.per_segment[index] += 1
                stats.surfaces[surface] += 1
                stats.after_opener += after_opener
                stats.run_ends += run_end
                if opening_words > 0:
                    stats.opening.add(index)
                if len(key) == 1:
                    opening_words -= 1
        return cls(phrases, len(segment_texts))

    def score(self, stats: PhraseStats, segment: int, *, in_phrase: bool = False) -> float:
        """TF-IDF of a phrase in one segment; ``in_phrase`` scores a word as part of a
        longer phrase, where being a modifier ("dynamic" in "dynamic programming") is no
        fault."""
        tf = stats.per_segment.get(segment, 0)
        if tf == 0:
            return 0.0
        n = len(stats.key)
        if n > 1 and tf < 2:
            return 0.0  # a phrase said once is as likely an accident of wording
        df = len(stats.per_segment)
        idf = math.log(1.0 + self.segment_count / df)
        share = tf / stats.total
        length_bonus = 1.0 + 0.5 * (n - 1)
        # "sorted", "declared", "quickly": participles and adverbs rarely name a topic.
        form = 0.6 if stats.surface.endswith(("ed", "ly")) else 1.0
        # Lecturers name a new topic as they open it ("Now let's turn to heaps").
        opening = OPENING_BONUS if segment in stats.opening else 1.0
        head = 0.4 + 0.6 * stats.head if n == 1 and not in_phrase else 1.0
        return (
            tf
            * idf
            * (0.5 + 0.5 * share)
            * length_bonus
            * (0.4 + 0.6 * stats.nominal)
            * form
            * opening
            * head
        )

    def ranked(self, segment: int) -> list[tuple[float, PhraseStats]]:
        scored = [(self.score(s, segment), s) for s in self.phrases.values()]
        scored = [(sc, s) for sc, s in scored if sc > 0]
        scored.sort(key=lambda item: (-item[0], item[1].key))
        return scored

    def central_terms(self, limit: int = 12) -> list[PhraseStats]:
        """The lecture's recurring subjects: single terms said in several segments."""
        spread_needed = 2 if self.segment_count > 1 else 1
        terms = [
            s
            for s in self.phrases.values()
            if len(s.key) == 1
            and len(s.per_segment) >= spread_needed
            and s.total >= 3
            and s.nominal >= 0.3
            and not s.surface.endswith(("ed", "ly"))
        ]
        terms.sort(key=lambda s: (-s.total * len(s.per_segment), s.key))
        return terms[:limit]


def pick_keyphrases(
    ranked: Sequence[tuple[float, PhraseStats]], segment: int, limit: int
) -> list[PhraseStats]:
    """Top phrases for one segment, each said in its fullest common form.

    A single word gives way to a longer phrase holding it that carries at least half of
    its mentions in the segment ("dioxide" -> "carbon dioxide", "factor" -> "load factor").
    A phrase contained in (or containing) one already taken is skipped.
    """
    multiword = [s for _, s in ranked if len(s.key) > 1]
    chosen: list[PhraseStats] = []
    for _, stats in ranked:
        if len(chosen) >= limit:
            break
        if len(stats.key) == 1:
            tf = stats.per_segment[segment]
            fuller = [
                m
                for m in multiword
                if _contains(m.key, stats.key) and m.per_segment[segment] * 2 >= tf
            ]
            if fuller:
                stats = fuller[0]  # ranked order: the best-scoring fuller form
        if any(_contains(c.key, stats.key) or _contains(stats.key, c.key) for c in chosen):
            continue
        chosen.append(stats)
    return chosen


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return n <= len(longer) and any(
        longer[i : i + n] == shorter for i in range(len(longer) - n + 1)
    )


def title_case(phrase: str) -> str:
    words = phrase.split()
    out = []
    for i, word in enumerate(words):
        if 0 < i < len(words) - 1 and word in _SMALL_WORDS:
            out.append(word)
        else:
            # Capitalise the first letter only, so "ATP" and "mRNA" keep their case.
            out.append("-".join(part[:1].upper() + part[1:] for part in word.split("-")))
    return " ".join(out)


def make_title(
    vocabulary: LectureVocabulary,
    ranked: Sequence[tuple[float, PhraseStats]],
    keyphrases: Sequence[PhraseStats],
    segment: int,
) -> str:
    """A short title (1-4 words) for one segment.

    Every phrase is scored as the sum of its words' scores (as RAKE does), so a phrase
    outranks its own head word: "binary search tree" beats "tree". Phrases qualify when
    said at least twice, or once in the segment's opening words, where lecturers name
    the new topic ("Now, dynamic programming ..."); a phrase said only once must not
    hold a word never used as a noun (which keeps verbs out: "hash table maps keys"). When the winner is a single word, a
    second word of nearly equal weight joins it, in the order the lecturer introduced
    them ("Supply and Demand"); a clearly dominant word stands alone ("Heaps").
    """
    if not keyphrases:
        return ""
    word_score = {
        key[0]: vocabulary.score(stats, segment, in_phrase=True)
        for key, stats in vocabulary.phrases.items()
        if len(key) == 1 and segment in stats.per_segment
    }
    best: tuple[float, int, PhraseStats] | None = None
    for stats in vocabulary.phrases.values():
        tf = stats.per_segment.get(segment, 0)
        if tf == 0 or stats.surface.endswith(("ed", "ly")):
            continue
        if len(stats.key) > 1 and tf < 2 and segment not in stats.opening:
            continue
        if len(set(stats.key)) < len(stats.key):
            continue  # "sort sort"-style repeats are recogniser stutter
        if len(stats.key) > 1 and _holds_verb(vocabulary, stats, strict=tf < 2):
            continue
        score = sum(word_score.get(w, 0.0) for w in stats.key) * (0.5 + 0.5 * stats.nominal)
        if len(stats.key) > 1 and segment in stats.opening:
            score *= OPENING_TITLE_BONUS
        rank = (score, -stats.first_seen.get(segment, 0), stats)
        if best is None or rank[:2] > best[:2]:
            best = rank
    if best is None or best[0] <= 0:
        return title_case(keyphrases[0].surface)
    top_score, _, top = best
    if len(top.key) == 1 and len(keyphrases) > 1:
        second = next((k for k in keyphrases if k.key != top.key), None)
        if (
            second is not None
            and len(second.key) == 1
            and word_score.get(second.key[0], 0.0) * (0.5 + 0.5 * second.nominal) >= 0.7 * top_score
            and min(top.nominal, second.nominal) >= 0.5
        ):
            pair = sorted((top, second), key=lambda p: p.first_seen.get(segment, 0))
            return title_case(f"{pair[0].surface} and {pair[1].surface}")
    return title_case(top.surface)


def _holds_verb(vocabulary: LectureVocabulary, stats: PhraseStats, *, strict: bool) -> bool:
    """Does a phrase hold a word that is never used as a noun?

    A word counts as a noun when it is seen after a noun-phrase opener ("the", "of", ...)
    or opening a clause. Any phrase is rejected for an "-s" word that never is: almost
    always a verb ("hash table maps keys", "linked list stores"). A phrase said only once
    (``strict``) is rejected for any such word ("plants capture light"). Gerunds pass,
    being nouns in titles ("dynamic programming").
    """
    for stem_, surface in zip(stats.key, stats.surface.split(), strict=False):
        word = vocabulary.phrases.get((stem_,))
        if word is None or word.nominal >= 0.3 or surface.endswith("ing"):
            continue
        if strict or (surface.endswith("s") and not surface.endswith(("ss", "us", "is"))):
            return True
    return False


def clean_sentence(sentence: str, max_chars: int = 220) -> str:
    text = _LEADING_FILLER.sub("", sentence.strip())
    text = re.sub(r"\s+", " ", text)
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0].rstrip(",;:")
        text = cut + "..."
    if text[-1] not in ".?!":
        text += "."
    return text


def representative_sentence(
    sentences: Sequence[str], weights: dict[str, float], prefer: re.Pattern[str] | None = None
) -> str:
    """The sentence that says most about the segment's keyphrases, per word spoken."""
    best, best_score = "", 0.0
    for sentence in sentences:
        tokens = [t.lower() for t in _TOKEN.findall(sentence)]
        if not 6 <= len(tokens) <= 40 or sentence.strip().endswith("?"):
            continue
        stems = {stem(t) for t in tokens if t not in STOP_WORDS}
        score = sum(weights.get(s, 0.0) for s in stems) / math.sqrt(len(tokens))
        if prefer is not None and prefer.search(sentence):
            score *= 1.5
        if score > best_score:
            best, best_score = sentence, score
    return clean_sentence(best) if best else ""


def join_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
