"""Search inside a lecture: matching and ranking over transcript and slide text."""

from __future__ import annotations

import pytest

from highlights.search import SearchQueryError, TopicSpan, search_lecture
from highlights.types import Slide, SlideLine, Transcript, TranscriptSegment

TRANSCRIPT = Transcript(
    segments=[
        TranscriptSegment(5.0, 9.0, "A hash table stores values in buckets.", 0.9),
        TranscriptSegment(10.0, 14.0, "The load factor is keys divided by buckets.", 0.9),
        TranscriptSegment(15.0, 19.0, "When the factor of load grows we resize.", 0.9),
        TranscriptSegment(60.0, 64.0, "A binary search tree keeps its keys in order.", 0.9),
        TranscriptSegment(65.0, 70.0, "Rotations keep the trees balanced.", 0.9),
    ],
    language="en", provider="test", model="test",
)
SLIDES = [
    Slide(0.0, 55.0, "Hash tables", (SlideLine("Collisions and the loadfactor", 0.9),), 0.9),
    Slide(55.0, 90.0, "Binary search trees",
          (SlideLine("Red-black trees and AVL trees", 0.9), SlideLine("Invariant: BST ordering", 0.9)), 0.9,
          section="Trees"),
]
TOPICS = [TopicSpan(5.0, 58.0, "Hash Tables"), TopicSpan(58.0, 90.0, "Binary Search Trees")]


def hits(query: str, **kwargs):
    return search_lecture(query, TRANSCRIPT, SLIDES, TOPICS, **kwargs)


def test_phrase_beats_all_words_beats_some_words() -> None:
    found = hits("load factor")
    # phrase on the slide (even where OCR ran the words together), then the spoken phrase,
    # then the sentence holding both words apart, then one word only
    assert [(h.source, h.start_time) for h in found] == [
        ("slide", 0.0), ("transcript", 10.0), ("transcript", 15.0)]
    assert all(h.topic == "Hash Tables" for h in found)


def test_plural_prefix_case_and_accents() -> None:
    assert [h.start_time for h in hits("TREE") if h.source == "transcript"] == [60.0, 65.0]
    assert [h.text for h in hits("rot")] == ["Rotations keep the trees balanced."]
    assert hits("invariánt")[0].text == "Invariant: BST ordering"


def test_a_word_only_on_a_slide_is_found_at_the_slide() -> None:
    found = hits("avl")
    assert [(h.source, h.start_time, h.end_time, h.topic) for h in found] == [
        ("slide", 55.0, 90.0, "Binary Search Trees")]


def test_slide_titles_rank_above_slide_lines_and_speech() -> None:
    found = hits("binary search trees")
    assert (found[0].source, found[0].text) == ("slide", "Binary search trees")
    assert found[1].source == "transcript"


def test_limit_and_empty_query() -> None:
    assert len(hits("trees", limit=1)) == 1
    assert hits("zebra") == []
    with pytest.raises(SearchQueryError):
        hits("  ?! ")
    assert search_lecture("hash", None, [], []) == []
