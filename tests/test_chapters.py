"""YouTube chapters from topic segments."""

from __future__ import annotations

import re

import pytest

from highlights.chapters import (
    ChapterError,
    build_chapters,
    format_chapters,
    format_timestamp,
    youtube_problem,
)
from highlights.types import ContentAnalysis, TopicSegment


def analysis(*spans: tuple[float, float, str, float]) -> ContentAnalysis:
    return ContentAnalysis(
        [TopicSegment(a, b, title, None, imp) for a, b, title, imp in spans], provider="test"
    )


LINE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}) (.+)$")


def parse(text: str) -> list[tuple[int, str]]:
    """Read a description back the way YouTube does."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, f"not a chapter line: {line!r}"
        h, mnt, s, title = m.groups()
        out.append((int(h or 0) * 3600 + int(mnt) * 60 + int(s), title))
    return out


def test_topics_become_chapters_from_zero():
    chapters = build_chapters(
        analysis(
            (4.2, 60.5, "Intro", 0.3), (62.0, 300.7, "Sorting", 0.9), (300.7, 598.0, "Graphs", 0.6)
        ),
        600.0,
    )
    text = format_chapters(chapters)
    assert text == "0:00 Intro\n1:02 Sorting\n5:00 Graphs"
    assert [c.end for c in chapters] == [62, 300, 600]
    assert youtube_problem(chapters) is None


def test_hour_long_lectures_use_hours():
    chapters = build_chapters(
        analysis((0, 1800, "A", 0.5), (1800, 3725, "B", 0.5), (3725, 4000, "C", 0.5)), 4000
    )
    assert parse(format_chapters(chapters)) == [(0, "A"), (1800, "B"), (3725, "C")]
    assert format_chapters(chapters).splitlines()[2] == "1:02:05 C"
    assert format_timestamp(59.9) == "0:59" and format_timestamp(3600) == "1:00:00"


def test_short_chapters_are_merged_into_their_neighbours():
    chapters = build_chapters(
        analysis(
            (0, 100, "Setup", 0.4),
            (100, 104, "Aside", 0.9),
            (104, 200, "Proof", 0.8),
            (200, 206, "Break", 0.1),
            (206, 300, "Examples", 0.5),
        ),
        300,
    )
    parsed = parse(format_chapters(chapters))
    assert [t for _, t in parsed] == ["Setup", "Proof", "Examples"]
    assert [s for s, _ in parsed] == [0, 104, 206]
    assert all(c.duration >= 10 for c in chapters)
    assert youtube_problem(chapters) is None


def test_a_short_important_first_chapter_names_the_merge_when_it_weighs_more():
    chapters = build_chapters(
        analysis(
            (0, 8, "Key result", 1.0),
            (8, 14, "Chatter", 0.1),
            (14, 60, "B", 0.5),
            (60, 120, "C", 0.5),
        ),
        120,
    )
    assert [(c.start, c.title) for c in chapters] == [(0, "Key result"), (14, "B"), (60, "C")]


def test_same_titles_in_a_row_are_joined():
    chapters = build_chapters(
        analysis(
            (0, 50, "Loops", 0.5),
            (50, 90, "loops", 0.5),
            (90, 200, "Recursion", 0.5),
            (200, 260, "Trees", 0.5),
        ),
        260,
    )
    assert [(c.start, c.title) for c in chapters] == [
        (0, "Loops"),
        (90, "Recursion"),
        (200, "Trees"),
    ]


def test_fewer_than_three_topics_are_split_into_parts():
    chapters = build_chapters(analysis((0, 100, "Sorting", 0.5), (100, 160, "Graphs", 0.5)), 160)
    assert [(c.start, c.title) for c in chapters] == [
        (0, "Sorting (part 1)"),
        (50, "Sorting (part 2)"),
        (100, "Graphs"),
    ]
    assert youtube_problem(chapters) is None

    one = build_chapters(analysis((0, 90, "Only topic", 0.5)), 90)
    assert len(one) == 3 and all(c.duration >= 10 for c in one)
    assert [c.title for c in one] == [
        "Only topic (part 1)",
        "Only topic (part 2)",
        "Only topic (part 3)",
    ]
    assert youtube_problem(one) is None


def test_too_short_lecture_says_why_it_has_no_youtube_chapters():
    chapters = build_chapters(analysis((0, 12, "A", 0.5), (12, 25, "B", 0.5)), 25)
    assert len(chapters) == 2
    problem = youtube_problem(chapters)
    assert problem and "at least 3" in problem
    with pytest.raises(ChapterError, match="at least 3"):
        format_chapters(chapters)
    assert format_chapters(chapters, strict=False) == "0:00 A\n0:12 B"


def test_no_topics_gives_no_chapters_and_a_reason():
    chapters = build_chapters(analysis(), 600)
    assert chapters == []
    assert "no topic" in youtube_problem(chapters)
    with pytest.raises(ChapterError):
        format_chapters(chapters)
    with pytest.raises(ChapterError, match="duration"):
        build_chapters(analysis(), 0)


def test_segments_past_the_end_and_long_titles_are_handled():
    long_title = "A very long title " * 10
    chapters = build_chapters(
        analysis(
            (0, 40, long_title, 0.5),
            (40, 80, "B", 0.5),
            (80, 130, "C", 0.5),
            (150, 200, "Beyond the end", 0.5),
        ),
        120.0,
    )
    assert [c.title for c in chapters][1:] == ["B", "C"]
    assert len(chapters[0].title) <= 100 and chapters[-1].end == 120
