"""Search inside one lecture: what was said (the transcript) and what was shown (the slides).

A query matches the way a search box is expected to: case and accents do not matter, a
word finds its plural and other simple inflections ("tree" finds "trees"), and a word of
three letters or more finds words it starts ("rot" finds "rotation"). Hits are ranked:

1. the whole query as a phrase (also where OCR ran the words together, "loadfactor");
2. every word of the query, in any order;
3. some of the words (the share of them decides);

slide titles before slide lines before speech at the same rank, then earlier first. A
word that is only on a slide, never spoken, is found at that slide's time.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from highlights.errors import HighlightsError
from highlights.storage import Storage, result_key
from highlights.types import Slide, Transcript

HitSource = Literal["slide", "transcript"]
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_SOURCE_BONUS = {"slide_title": 0.3, "slide": 0.2, "transcript": 0.0}
_SUFFIXES = ("ies", "es", "s", "ing", "ed", "ly")


class SearchQueryError(HighlightsError, ValueError):
    """The query has nothing to search for."""


@dataclass(frozen=True)
class TopicSpan:
    start: float
    end: float
    title: str


@dataclass(frozen=True)
class SearchHit:
    start_time: float
    end_time: float
    source: HitSource
    text: str
    topic: str | None
    score: float

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        del data["score"]
        data["start_time"] = round(self.start_time, 3)
        data["end_time"] = round(self.end_time, 3)
        return data


def fold(text: str) -> str:
    """Lower case without accents: "Élan" and "elan" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def stem(token: str) -> str:
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return token


def _term_matches(term: str, token: str) -> bool:
    if token == term or stem(token) == stem(term):
        return True
    return len(term) >= 3 and token.startswith(term)


def _score(query_terms: Sequence[str], text: str) -> float:
    """3 for the phrase, 2 for all words, else the share of words found (0 for none)."""
    words = tokens(text)
    if not words:
        return 0.0
    n = len(query_terms)
    for i in range(len(words) - n + 1):
        if all(_term_matches(t, w) for t, w in zip(query_terms, words[i : i + n], strict=True)):
            return 3.0
    if "".join(query_terms) in "".join(words):  # OCR ran the words together
        return 3.0
    found = [any(_term_matches(t, w) for w in words) for t in query_terms]
    if all(found):
        return 2.0
    return sum(found) / n


def _topic_at(topics: Sequence[TopicSpan], start: float, end: float) -> str | None:
    """The topic that overlaps [start, end] most, else the nearest one (a slide shown
    before the first words belongs to the first topic)."""
    if not topics:
        return None

    def overlap(topic: TopicSpan) -> float:
        return min(topic.end, max(end, start + 1e-3)) - max(topic.start, start)

    def distance(topic: TopicSpan) -> float:
        return max(topic.start - end, start - topic.end, 0.0)

    best = max(topics, key=overlap)
    if overlap(best) > 0:
        return best.title
    return min(topics, key=distance).title


def search_lecture(
    query: str,
    transcript: Transcript | None,
    slides: Sequence[Slide],
    topics: Sequence[TopicSpan] = (),
    *,
    limit: int = 20,
) -> list[SearchHit]:
    """The best `limit` hits for `query`, best first."""
    terms = tokens(query)
    if not terms:
        raise SearchQueryError("the query has no letters or digits to search for")
    hits: list[tuple[float, SearchHit]] = []

    def add(start: float, end: float, source: HitSource, kind: str, text: str) -> None:
        score = _score(terms, text)
        if score > 0:
            hit = SearchHit(start, end, source, text.strip(), _topic_at(topics, start, end), score)
            hits.append((score + _SOURCE_BONUS[kind], hit))

    for slide in slides:
        if slide.title:
            add(slide.start, slide.end, "slide", "slide_title", slide.title)
        for line in slide.lines:
            add(slide.start, slide.end, "slide", "slide", line.text)
        if slide.section:
            add(slide.start, slide.end, "slide", "slide", slide.section)
    for segment in transcript.segments if transcript else ():
        add(segment.start, segment.end, "transcript", "transcript", segment.text)

    hits.sort(key=lambda item: (-item[0], item[1].start_time))
    unique: list[SearchHit] = []
    seen: set[tuple[str, float, str]] = set()
    for _, hit in hits:
        key = (hit.source, round(hit.start_time, 2), fold(hit.text))
        if key not in seen:
            seen.add(key)
            unique.append(hit)
        if len(unique) >= limit:
            break
    return unique


def load_lecture_text(storage: Storage, job_id: str) -> tuple[Transcript | None, list[Slide]]:
    """The stored transcript (with word timings) and slides of a job; absent ones empty."""
    transcript = None
    transcript_key = result_key(job_id, "transcript.json")
    if storage.exists(transcript_key):
        transcript = Transcript.from_dict(json.loads(storage.read_bytes(transcript_key)))
    slides: list[Slide] = []
    slides_key = result_key(job_id, "slides.json")
    if storage.exists(slides_key):
        data = json.loads(storage.read_bytes(slides_key))
        slides = [Slide.from_dict(item) for item in data.get("slides", [])]
    return transcript, slides
