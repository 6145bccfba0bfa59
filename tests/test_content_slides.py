"""The local analyzer with slide text: boundaries and titles from the slides.

The committed lecture's slides are read by the real OCR engine; the longer lectures are
laid out from topic texts (as tests/test_content_local.py does) with their slides as the
layout stage would report them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from content_topics import ALL_TOPICS, BuiltLecture, build_lecture, transcript_from_speech
from test_content_local import pk_seconds

from highlights.content.local import LocalAnalyzer
from highlights.slide_text import read_deck
from highlights.titles import normalize
from highlights.types import ContentAnalysis, Region, Slide, SlideLine

LECTURES = Path(__file__).parent / "fixtures" / "lectures"


def analyze(lecture: BuiltLecture, slides: list[Slide]) -> ContentAnalysis:
    return LocalAnalyzer().analyze(
        transcript_from_speech(lecture.speech), slide_changes=[s.start for s in slides[1:]],
        silences=[], duration=lecture.duration, slides=slides,
    )


def slides_for(lecture: BuiltLecture, titles_per_topic: list[list[str]]) -> list[Slide]:
    """Slides evenly through each topic, titled as given, each with a spoken body line."""
    slides: list[Slide] = []
    for k, (topic, titles) in enumerate(zip(lecture.topics, titles_per_topic, strict=True)):
        start = lecture.topics[k - 1]["end"] if k else 0.0
        end = lecture.topics[k + 1]["start"] - 0.5 if k + 1 < len(lecture.topics) else lecture.duration
        step = (end - start) / len(titles)
        first = next(s["text"] for s in lecture.speech if s["start"] >= topic["start"])
        for i, title in enumerate(titles):
            slides.append(Slide(start + i * step, start + (i + 1) * step, title,
                                (SlideLine(" ".join(first.split()[:6]), 0.97),), 0.97))
    return slides


def content_words(text: str) -> set[str]:
    return {normalize(w) for w in text.split() if len(normalize(w)) > 3}


def test_committed_lecture_titles_and_boundaries_come_from_its_slides() -> None:
    truth = json.loads((LECTURES / "sbs.json").read_text())
    layout = truth["layout"]
    blank = truth["blank"]
    deck = read_deck(
        LECTURES / "sbs.mp4", truth["slide_changes"], truth["duration"],
        Region.from_dict(layout["screen_region"]), Region.from_dict(layout["camera_region"]),
        not_blank=lambda t: not (blank["start"] <= t <= blank["end"]),
    )
    analysis = LocalAnalyzer().analyze(
        transcript_from_speech(truth["speech"]), slide_changes=truth["slide_changes"],
        silences=[], duration=truth["duration"], slides=deck.slides,
    )
    assert [s.topic for s in analysis.segments] == [t["title"] for t in truth["topics"]]
    found = [s.start for s in analysis.segments]
    assert pk_seconds([t["start"] for t in truth["topics"]], found, truth["duration"]) <= 0.15
    # keywords draw on the slide text (its diagram labels), concepts on the slide headings
    hash_tables = analysis.segments[0]
    assert {"load factor", "collision", "bucket"} <= {k.lower() for k in hash_tables.keywords}
    assert "Collisions and the load factor" in hash_tables.concepts
    assert any("slide runs" in n for n in analysis.notes), analysis.notes


def test_many_short_topics_are_not_merged() -> None:
    lecture = build_lecture(list(ALL_TOPICS), words_per_second=2.6)
    assert max(t["end"] - t["start"] for t in lecture.topics) < 90  # short topics
    titles = [[t["title"], f"{t['title']} (cont.)"] for t in lecture.topics]
    analysis = analyze(lecture, slides_for(lecture, titles))
    assert [s.topic for s in analysis.segments] == [t["title"] for t in lecture.topics]
    truth = [t["start"] for t in lecture.topics]
    assert pk_seconds(truth, [s.start for s in analysis.segments], lecture.duration) <= 0.15
    # each boundary sits before the new topic's first sentence, in the pause
    for segment, topic in zip(analysis.segments[1:], lecture.topics[1:], strict=True):
        assert topic["start"] - 2.0 <= segment.start <= topic["start"] + 0.01


def test_long_topics_with_many_slides_are_not_cut() -> None:
    topics = list(ALL_TOPICS[:6])
    lecture = build_lecture(topics, repeat=4)
    assert min(t["end"] - t["start"] for t in lecture.topics) > 150
    titles = [[f"{t['title']}: part {i}" for i in range(1, 5)] for t in lecture.topics]
    analysis = analyze(lecture, slides_for(lecture, titles))
    # the slides' shared heading names the topic, not one part's subtitle
    assert [s.topic for s in analysis.segments] == [t["title"] for t in lecture.topics]
    truth = [t["start"] for t in lecture.topics]
    assert pk_seconds(truth, [s.start for s in analysis.segments], lecture.duration) <= 0.15


@pytest.mark.parametrize(
    ("case", "note"),
    [
        ("another_language", "spoken"),
        ("no_titles", "no slide titles"),
    ],
)
def test_unusable_slides_fall_back_to_lexical_titles_with_a_note(case: str, note: str) -> None:
    lecture = build_lecture(list(ALL_TOPICS[:4]))
    if case == "another_language":
        titles = [["Einführung in das Thema"], ["Grundlagen und Beispiele"],
                  ["Zusammenfassung der Ergebnisse"], ["Fragen und Antworten"]]
        slides = [Slide(s.start, s.end, s.title, (SlideLine("Wir betrachten heute viele Dinge", 0.9),), 0.9)
                  for s in slides_for(lecture, titles)]
    else:
        slides = [Slide(s.start, s.end, "", s.lines, s.confidence)
                  for s in slides_for(lecture, [[t["title"]] for t in lecture.topics])]
    analysis = analyze(lecture, slides)
    assert any(note in n for n in analysis.notes), analysis.notes
    without = LocalAnalyzer().analyze(
        transcript_from_speech(lecture.speech), slide_changes=[s.start for s in slides[1:]],
        silences=[], duration=lecture.duration)
    assert [(s.start, s.topic) for s in analysis.segments] == [
        (s.start, s.topic) for s in without.segments]
    assert not any("slide runs" in n for n in analysis.notes)
