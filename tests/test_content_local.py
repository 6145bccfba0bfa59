"""The local content analyzer on timed transcripts with known topic boundaries.

Transcripts come from ground truth instead of a speech recogniser (one TranscriptSegment
per spoken sentence, words spread evenly over it), so these tests need no Whisper model:
- the generated lectures in tests/fixtures/lectures/*.json (their ``speech`` sentences,
  slide changes and pauses), and
- lectures assembled from tests/content_topics.py, texts the lecture generator does not
  use, including same-course topics that share vocabulary.

Segmentation quality is measured with Pk (Beeferman et al. 1999, NLTK's
nltk.metrics.segmentation.pk) on 1-second units: each second of the recording is one
unit, and a boundary sits at the second where a topic starts. k is NLTK's default, half
the mean true topic length.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest
from nltk.metrics.segmentation import pk

from highlights.content import AnalysisError, Analyzer, LocalAnalyzer, get_analyzer
from highlights.content.importance import cue_signal
from highlights.content.keyphrases import LectureVocabulary
from highlights.content.text import is_content_word, stem, words
from highlights.settings import load_settings
from highlights.types import ContentAnalysis, SilenceRegion, Transcript, TranscriptSegment
from tests.content_topics import (
    CELL_BIOLOGY,
    DATA_STRUCTURES,
    MISCELLANEOUS,
    BuiltLecture,
    build_lecture,
    transcript_from_speech,
)

FIXTURES = Path(__file__).parent / "fixtures" / "lectures"
FIXTURE_NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
GENERIC_TITLE = re.compile(r"^(segment|topic|part|section)\s*\d+$", re.IGNORECASE)


def boundary_string(topic_starts: list[float], duration: float) -> str:
    """One character per second; "1" where a new topic starts (the first one excluded)."""
    marks = ["0"] * int(round(duration))
    for t in topic_starts:
        second = int(round(t))
        if 0 < second < len(marks):
            marks[second] = "1"
    return "".join(marks)


def pk_seconds(true_starts: list[float], found_starts: list[float], duration: float) -> float:
    return pk(
        boundary_string(true_starts, duration),
        boundary_string(found_starts, duration),
        boundary="1",
    )


def median_boundary_error(true_starts: list[float], found_starts: list[float]) -> float:
    if not found_starts:
        return float("inf")
    return statistics.median(min(abs(t - f) for f in found_starts) for t in true_starts)


def analyze_built(lecture: BuiltLecture, **kwargs) -> ContentAnalysis:
    return LocalAnalyzer().analyze(
        transcript_from_speech(lecture.speech),
        slide_changes=kwargs.get("slide_changes", lecture.slide_changes),
        silences=[],
        duration=lecture.duration,
    )


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def analyze_fixture(truth: dict) -> ContentAnalysis:
    silences = [SilenceRegion(p["start"], p["end"], "audio_silence") for p in truth["pauses"]]
    return LocalAnalyzer().analyze(
        transcript_from_speech(truth["speech"]),
        slide_changes=truth["slide_changes"],
        silences=silences,
        duration=truth["duration"],
    )


def assert_well_formed(result: ContentAnalysis, transcript: Transcript) -> None:
    """The interface's promises: ordered, contiguous, covering speech, on segment borders."""
    segs = result.segments
    assert segs, "a lecture with speech must give at least one topic"
    assert segs[0].start == pytest.approx(transcript.segments[0].start)
    assert segs[-1].end == pytest.approx(max(s.end for s in transcript.segments))
    borders = {round(s.start, 3) for s in transcript.segments}
    for prev, cur in zip(segs, segs[1:], strict=False):
        assert cur.start == pytest.approx(prev.end), "topics must be contiguous"
        assert round(cur.start, 3) in borders, "boundaries must fall on transcript borders"
    for seg in segs:
        assert seg.end > seg.start
        assert 0.0 <= seg.importance_score <= 1.0
        assert seg.topic and not GENERIC_TITLE.match(seg.topic)
        assert 1 <= len(seg.topic.split()) <= 5
        assert seg.description and len(seg.description) <= 400
        assert seg.keywords and all(isinstance(k, str) and k for k in seg.keywords)


# --- the generated lectures -------------------------------------------------------------


def test_fixture_lectures_are_present():
    # The parametrised tests below would silently run zero cases without them.
    assert {"sbs", "pip", "screen"} <= set(FIXTURE_NAMES)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_segmentation_matches_ground_truth(name):
    truth = load_fixture(name)
    result = analyze_fixture(truth)
    assert_well_formed(result, transcript_from_speech(truth["speech"]))
    true_starts = [t["start"] for t in truth["topics"][1:]]
    found_starts = [s.start for s in result.segments[1:]]
    score = pk_seconds(true_starts, found_starts, truth["duration"])
    assert score <= 0.15, f"Pk {score:.3f}: found {found_starts}, truth {true_starts}"
    assert median_boundary_error(true_starts, found_starts) <= 5.0


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_important_topic_scores_above_median(name):
    truth = load_fixture(name)
    result = analyze_fixture(truth)
    median = statistics.median(s.importance_score for s in result.segments)
    for topic in (t for t in truth["topics"] if t["important"]):
        middle = (topic["start"] + topic["end"]) / 2
        seg = next(s for s in result.segments if s.start <= middle < s.end)
        assert seg.importance_score > median, (topic["title"], seg, median)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_titles_name_the_subject(name):
    """Each topic's title or keywords share a word with the true title or keywords."""
    truth = load_fixture(name)
    result = analyze_fixture(truth)
    for topic in truth["topics"]:
        middle = (topic["start"] + topic["end"]) / 2
        seg = next(s for s in result.segments if s.start <= middle < s.end)
        found = {stem(w) for text in [seg.topic, *seg.keywords] for w in words(text)}
        expected = {stem(w) for text in [topic["title"], *topic["keywords"]] for w in words(text)}
        found, expected = ({w for w in ws if is_content_word(w)} for ws in (found, expected))
        assert found & expected, (topic["title"], seg.topic, seg.keywords)


# --- lectures assembled from texts the generator does not use ----------------------------

OWN_LECTURES = {
    "data-structures": lambda: build_lecture(DATA_STRUCTURES),
    "cell-biology-no-pauses": lambda: build_lecture(CELL_BIOLOGY, topic_pause=0.4),
    "mixed-subjects-fast": lambda: build_lecture(
        MISCELLANEOUS[:6], words_per_second=3.2, sentence_pause=0.2, topic_pause=0.6
    ),
    "long-repeated": lambda: build_lecture(DATA_STRUCTURES + CELL_BIOLOGY, repeat=3),
}


@pytest.mark.parametrize("name", sorted(OWN_LECTURES))
def test_own_lectures_segmentation(name):
    lecture = OWN_LECTURES[name]()
    result = analyze_built(lecture)
    assert_well_formed(result, transcript_from_speech(lecture.speech))
    true_starts = [t["start"] for t in lecture.topics[1:]]
    found_starts = [s.start for s in result.segments[1:]]
    score = pk_seconds(true_starts, found_starts, lecture.duration)
    assert score <= 0.15, f"Pk {score:.3f}: found {found_starts}, truth {true_starts}"
    assert median_boundary_error(true_starts, found_starts) <= 5.0


def test_lexical_cohesion_alone_finds_topics():
    """No slide changes and no pauses between topics: the words alone must carry it."""
    lecture = build_lecture(CELL_BIOLOGY + MISCELLANEOUS[:2], topic_pause=0.4)
    result = analyze_built(lecture, slide_changes=[])
    true_starts = [t["start"] for t in lecture.topics[1:]]
    found_starts = [s.start for s in result.segments[1:]]
    assert pk_seconds(true_starts, found_starts, lecture.duration) <= 0.15


@pytest.mark.parametrize("topics", [DATA_STRUCTURES, CELL_BIOLOGY], ids=["ds", "bio"])
def test_own_lectures_important_topic_scores_above_median(topics):
    lecture = build_lecture(topics)
    result = analyze_built(lecture)
    median = statistics.median(s.importance_score for s in result.segments)
    important = [t for t in lecture.topics if t["important"]]
    assert important
    for topic in important:
        middle = (topic["start"] + topic["end"]) / 2
        seg = next(s for s in result.segments if s.start <= middle < s.end)
        assert seg.importance_score > median
        assert seg.importance_score == max(s.importance_score for s in result.segments)


def test_housekeeping_scores_below_teaching():
    lecture = build_lecture(DATA_STRUCTURES)
    result = analyze_built(lecture)
    logistics = result.segments[0]  # "Course Logistics" opens the lecture
    assert logistics.importance_score < statistics.median(
        s.importance_score for s in result.segments
    )


def test_titles_and_keywords_come_from_the_segment():
    lecture = build_lecture(DATA_STRUCTURES)
    result = analyze_built(lecture)
    by_title = {t["title"]: t for t in lecture.topics}
    linked = by_title["Linked Lists and Pointers"]
    seg = next(s for s in result.segments if s.start <= linked["start"] + 5 < s.end)
    assert "Linked List" in seg.topic
    assert {"linked list", "node", "pointer"} <= {k.lower() for k in seg.keywords}
    assert seg.description.startswith("Covers ")
    assert len(seg.description.split(". ")) <= 3


def test_result_is_deterministic():
    lecture = build_lecture(CELL_BIOLOGY)
    first = analyze_built(lecture)
    second = analyze_built(lecture)
    assert first == second


def test_slide_changes_place_boundaries():
    """Without a pause between topics, the boundary lands at the slide change."""
    lecture = build_lecture(DATA_STRUCTURES, topic_pause=0.4)
    result = analyze_built(lecture)
    topic_slides = [t["start"] - 0.5 for t in lecture.topics[1:]]
    hits = [
        min(abs(s.start - c) for c in lecture.slide_changes)
        for s in result.segments[1:]
        if min(abs(s.start - t) for t in topic_slides) < 15
    ]
    assert hits and all(h <= 1.0 for h in hits)


def test_three_hour_lecture_is_fast_enough():
    import time

    lecture = build_lecture(DATA_STRUCTURES + CELL_BIOLOGY + MISCELLANEOUS, repeat=8)
    transcript = transcript_from_speech(lecture.speech)
    assert lecture.duration > 2.5 * 3600
    t0 = time.perf_counter()
    result = LocalAnalyzer().analyze(
        transcript, slide_changes=lecture.slide_changes, silences=[], duration=lecture.duration
    )
    elapsed = time.perf_counter() - t0
    assert elapsed < 20, f"{elapsed:.1f} s"  # bench/bench_content.py tracks the 10 s target
    true_starts = [t["start"] for t in lecture.topics[1:]]
    found = [s.start for s in result.segments[1:]]
    assert pk_seconds(true_starts, found, lecture.duration) <= 0.15


# --- awkward input ----------------------------------------------------------------------


def test_empty_transcript_gives_clear_empty_result():
    result = LocalAnalyzer().analyze(
        Transcript(segments=[]), slide_changes=[3.0], silences=[], duration=60.0
    )
    assert result.segments == []
    assert any("no speech" in note for note in result.notes)
    blank = Transcript(segments=[TranscriptSegment(0.0, 2.0, "   ", None)])
    assert (
        LocalAnalyzer().analyze(blank, slide_changes=[], silences=[], duration=5.0).segments == []
    )


def test_filler_only_speech_gives_one_segment():
    transcript = Transcript(
        segments=[
            TranscriptSegment(1.0, 2.0, "Okay.", 0.9),
            TranscriptSegment(3.0, 4.0, "Um, right.", 0.9),
        ]
    )
    result = LocalAnalyzer().analyze(transcript, slide_changes=[], silences=[], duration=10.0)
    assert len(result.segments) == 1
    assert result.segments[0].start == 1.0 and result.segments[0].end == 4.0
    assert result.segments[0].topic


def test_messy_timestamps_are_cleaned():
    """Unsorted segments, an end before its start, one past the media end."""
    lecture = build_lecture(CELL_BIOLOGY[:3])
    transcript = transcript_from_speech(lecture.speech)
    segments = list(reversed(transcript.segments))
    segments[5].end = segments[5].start - 1.0
    segments.append(TranscriptSegment(lecture.duration + 50, lecture.duration + 60, "late", None))
    result = LocalAnalyzer().analyze(
        Transcript(segments=segments),
        slide_changes=lecture.slide_changes,
        silences=[],
        duration=lecture.duration,
    )
    assert result.segments[-1].end <= lecture.duration
    assert all(a.end == b.start for a, b in zip(result.segments, result.segments[1:], strict=False))


# --- pieces -------------------------------------------------------------------------------


def test_cue_phrases_raise_importance_signal():
    plain = "The heap keeps the smallest element at the root of the tree."
    stressed = plain + " This is the key idea, and it will be on the exam."
    assert cue_signal(stressed, 60.0) > cue_signal(plain, 60.0) + 0.3
    assert cue_signal(plain, 60.0) == 0.0


def test_keyphrases_join_inflections():
    vocab = LectureVocabulary.build(
        ["Hash tables resolve collisions. A hash table with chaining.", "Sorting with merge sort."]
    )
    assert ("hash", "tabl") in vocab.phrases
    assert vocab.phrases[("hash", "tabl")].per_segment[0] == 2
    assert stem("collisions") == stem("collision")


def test_get_analyzer_follows_settings():
    local = get_analyzer(load_settings({}))
    assert isinstance(local, LocalAnalyzer) and isinstance(local, Analyzer)
    assert local.name == "local-texttiling"
    with pytest.raises(AnalysisError, match="GEMINI_API_KEY"):
        get_analyzer(load_settings({"HIGHLIGHTS_ANALYZER": "gemini"}))
