"""The Gemini analyzer, with the real google-genai SDK talking to a local fake of the API.

tests/fakes/gemini_server.py speaks the generateContent REST wire format on 127.0.0.1;
each test scripts its replies (valid answers, malformed JSON, schema violations, rate
limits, outages) and inspects the requests the SDK actually sent.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from highlights.content import AnalysisError, get_analyzer
from highlights.content.gemini import FALLBACK_PROVIDER, GeminiAnalyzer
from highlights.content.local import LocalAnalyzer
from highlights.settings import load_settings
from highlights.types import SilenceRegion, Slide, SlideLine, Transcript
from tests.content_topics import (
    DATA_STRUCTURES,
    BuiltLecture,
    build_lecture,
    transcript_from_speech,
)
from tests.fakes.gemini_server import (
    FakeGemini,
    RecordedRequest,
    Reply,
    error_reply,
    json_reply,
    text_reply,
)

MODEL = "gemini-2.5-flash"
LINE = re.compile(r"^\[(\d+)\] ", re.MULTILINE)


def make_analyzer(fake: FakeGemini, **overrides) -> GeminiAnalyzer:
    options = dict(
        api_key=fake.api_key,
        model=MODEL,
        base_url=fake.base_url,
        attempts=4,
        initial_delay=0.05,
        max_delay=0.2,
        timeout_seconds=10,
    )
    options.update(overrides)
    return GeminiAnalyzer(**options)


def topic_first_lines(lecture: BuiltLecture) -> list[int]:
    starts = [item["start"] for item in lecture.speech]
    return [starts.index(t["start"]) for t in lecture.topics]


def truthful_answer(lecture: BuiltLecture):
    """A responder that segments whatever lines it is sent along the true topics, the way
    a good model would: topics cut off at the edge of the window end there."""
    firsts = topic_first_lines(lecture)
    bounds = [*firsts, len(lecture.speech)]

    def respond(request: RecordedRequest) -> Reply:
        shown = [int(i) for i in LINE.findall(request.texts[0])]
        lo, hi = min(shown), max(shown)
        segments = []
        for k, topic in enumerate(lecture.topics):
            first, last = max(bounds[k], lo), min(bounds[k + 1] - 1, hi)
            if first > last:
                continue
            segments.append(
                {
                    "first_line": first,
                    "last_line": last,
                    "topic": topic["title"],
                    "description": f"What {topic['title']} is about.",
                    "importance": 0.9 if topic["important"] else 0.4,
                    "keywords": topic["title"].lower().split()[:3],
                    "concepts": ["data structures"],
                }
            )
        return json_reply({"segments": segments})

    return respond


@pytest.fixture()
def lecture() -> BuiltLecture:
    return build_lecture(DATA_STRUCTURES)


def analyze(analyzer, lecture: BuiltLecture, silences=()):
    return analyzer.analyze(
        transcript_from_speech(lecture.speech),
        slide_changes=lecture.slide_changes,
        silences=list(silences),
        duration=lecture.duration,
    )


def test_valid_answer_becomes_segments(lecture):
    silences = [SilenceRegion(50.0, 52.5, "audio_silence", -40.0)]
    with FakeGemini() as fake:
        fake.queue(truthful_answer(lecture))
        result = analyze(make_analyzer(fake), lecture, silences)

    assert result.provider == "gemini" and result.model == MODEL
    assert [s.topic for s in result.segments] == [t["title"] for t in lecture.topics]
    assert [s.start for s in result.segments] == pytest.approx(
        [lecture.speech[i]["start"] for i in topic_first_lines(lecture)]
    )
    assert result.segments[-1].end == pytest.approx(lecture.speech[-1]["end"])
    important = next(s for s in result.segments if s.topic == "Hash Table Collisions")
    assert important.importance_score == 0.9 and important.concepts == ["data structures"]

    (request,) = fake.requests
    assert request.path == f"/v1beta/models/{MODEL}:generateContent"
    assert request.headers["x-goog-api-key"] == fake.api_key
    config = request.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema_fields = config["responseSchema"]["properties"]["segments"]["items"]["properties"]
    assert {"first_line", "last_line", "topic", "importance", "keywords"} <= set(schema_fields)
    prompt = request.texts[0]
    first = lecture.speech[0]
    assert f"[0] {first['start']:.1f}-{first['end']:.1f} {first['text']}" in prompt
    assert f"{lecture.slide_changes[1]:.1f}" in prompt and "50.0-52.5" in prompt
    assert "systemInstruction" in request.body


def test_malformed_json_is_reasked_with_the_error_then_used(lecture):
    with FakeGemini() as fake:
        fake.queue(text_reply('{"segments": [{"first_line": 0, '), truthful_answer(lecture))
        result = analyze(make_analyzer(fake), lecture)

    assert result.provider == "gemini"
    assert len(result.segments) == len(lecture.topics)
    assert len(fake.requests) == 2
    second = fake.requests[1]
    assert second.roles == ["user", "model", "user"]
    assert second.texts[1] == '{"segments": [{"first_line": 0, '  # our bad answer, quoted back
    assert "not valid JSON" in second.last_user_text
    assert any("re-asked once" in note for note in result.notes)


def test_schema_violation_then_overlap_falls_back_to_local(lecture):
    missing_topic = {"segments": [{"first_line": 0, "last_line": 5, "importance": 0.5}]}
    n = len(lecture.speech)
    overlapping = {
        "segments": [
            {
                "first_line": 0,
                "last_line": 30,
                "topic": "Arrays",
                "description": "d",
                "importance": 0.5,
                "keywords": ["array"],
                "concepts": [],
            },
            {
                "first_line": 20,
                "last_line": n - 1,
                "topic": "Trees",
                "description": "d",
                "importance": 0.5,
                "keywords": ["tree"],
                "concepts": [],
            },
        ]
    }
    with FakeGemini() as fake:
        fake.queue(json_reply(missing_topic), json_reply(overlapping))
        result = analyze(make_analyzer(fake), lecture)

    assert len(fake.requests) == 2
    assert "does not match the schema" in fake.requests[1].last_user_text
    assert "topic" in fake.requests[1].last_user_text
    assert result.provider == FALLBACK_PROVIDER == "local-texttiling (fallback from gemini)"
    assert "unusably twice" in result.notes[0] and "overlap" in result.notes[0]
    local = LocalAnalyzer().analyze(
        transcript_from_speech(lecture.speech),
        slide_changes=lecture.slide_changes,
        silences=[],
        duration=lecture.duration,
    )
    assert result.segments == local.segments


def test_out_of_range_importance_is_reasked(lecture):
    n = len(lecture.speech)
    too_high = {
        "segments": [
            {
                "first_line": 0,
                "last_line": n - 1,
                "topic": "Data Structures",
                "description": "d",
                "importance": 7,
                "keywords": ["array"],
                "concepts": [],
            }
        ]
    }
    with FakeGemini() as fake:
        fake.queue(json_reply(too_high), truthful_answer(lecture))
        result = analyze(make_analyzer(fake), lecture)
    assert "importance 7.0, outside 0-1" in fake.requests[1].last_user_text
    assert result.provider == "gemini"


def test_small_gaps_are_filled_without_reasking(lecture):
    firsts = topic_first_lines(lecture)

    def with_gaps(request: RecordedRequest) -> Reply:
        answer = json.loads(
            truthful_answer(lecture)(request).body["candidates"][0]["content"]["parts"][0]["text"]
        )
        answer["segments"][0]["first_line"] = 1  # skips line 0
        answer["segments"][1]["last_line"] -= 1  # skips the last line of topic 2
        return json_reply(answer)

    with FakeGemini() as fake:
        fake.queue(with_gaps)
        result = analyze(make_analyzer(fake), lecture)
    assert len(fake.requests) == 1
    assert result.segments[0].start == lecture.speech[0]["start"]
    assert result.segments[2].start == pytest.approx(lecture.speech[firsts[2]]["start"])
    assert all(a.end == b.start for a, b in zip(result.segments, result.segments[1:], strict=False))


def test_rate_limit_and_outage_burst_is_retried_by_the_sdk(lecture):
    with FakeGemini() as fake:
        fake.queue(error_reply(429), error_reply(503), truthful_answer(lecture))
        result = analyze(make_analyzer(fake, attempts=4), lecture)
    assert len(fake.requests) == 3
    assert result.provider == "gemini" and len(result.segments) == len(lecture.topics)


def test_never_recovering_api_fails_transient_within_the_retry_budget(lecture):
    with FakeGemini(fallback=lambda request: error_reply(503, "The model is overloaded.")) as fake:
        t0 = time.monotonic()
        with pytest.raises(AnalysisError) as caught:
            analyze(make_analyzer(fake, attempts=3), lecture)
        elapsed = time.monotonic() - t0
    error = caught.value
    assert error.transient is True
    assert "unavailable after 3 attempt(s)" in error.message and "503" in error.message
    assert "overloaded" in error.message
    assert len(fake.requests) == 3
    assert elapsed < 10


def test_rejected_key_fails_at_once_not_transient(lecture):
    with FakeGemini(api_key="the-right-key") as fake:
        analyzer = make_analyzer(fake, api_key="a-wrong-key")
        with pytest.raises(AnalysisError, match="GEMINI_API_KEY") as caught:
            analyze(analyzer, lecture)
    assert caught.value.transient is False
    assert len(fake.requests) == 1  # 401 is not retried


def test_unreachable_endpoint_is_transient(lecture):
    with FakeGemini() as fake:
        url = fake.base_url
    analyzer = GeminiAnalyzer(
        api_key="k",
        model=MODEL,
        base_url=url,
        attempts=2,
        initial_delay=0.05,
        max_delay=0.1,
        timeout_seconds=2,
    )
    with pytest.raises(AnalysisError, match="unreachable") as caught:
        analyze(analyzer, lecture)
    assert caught.value.transient is True


def test_long_lecture_is_sent_in_overlapping_windows_and_merged(lecture):
    long_lecture = build_lecture(DATA_STRUCTURES, repeat=4)  # ~24 min
    with FakeGemini() as fake:
        fake.fallback = truthful_answer(long_lecture)
        analyzer = make_analyzer(fake, window_seconds=8 * 60, overlap_seconds=90)
        result = analyze(analyzer, long_lecture)

    windows = [[int(i) for i in LINE.findall(r.texts[0])] for r in fake.requests]
    assert len(windows) >= 3
    for earlier, later in zip(windows, windows[1:], strict=False):
        assert later[0] <= earlier[-1], "neighbouring windows must overlap"
        assert later[0] > earlier[0]
    assert windows[0][0] == 0 and windows[-1][-1] == len(long_lecture.speech) - 1

    # Some true topics straddle a window border; none may come back cut in two.
    firsts = topic_first_lines(long_lecture)
    spans = list(zip(firsts, [*firsts[1:], len(long_lecture.speech)], strict=True))
    straddling = [(a, b) for a, b in spans for w in windows[:-1] if a < w[-1] < b - 1 and w[0] <= a]
    assert straddling, "test setup: a topic should cross a window's end"
    assert [s.topic for s in result.segments] == [t["title"] for t in long_lecture.topics]
    assert [s.start for s in result.segments] == pytest.approx(
        [long_lecture.speech[i]["start"] for i in firsts]
    )
    assert f"in {len(windows)} request window(s)" in result.notes[0]


def test_empty_transcript_sends_nothing():
    with FakeGemini() as fake:
        result = make_analyzer(fake).analyze(
            Transcript(segments=[]), slide_changes=[], silences=[], duration=30.0
        )
    assert result.segments == [] and fake.requests == []
    assert any("no speech" in note for note in result.notes)


def test_get_analyzer_reads_gemini_settings(lecture):
    with FakeGemini(api_key="env-key") as fake:
        settings = load_settings(
            {
                "HIGHLIGHTS_ANALYZER": "gemini",
                "GEMINI_API_KEY": "env-key",
                "GOOGLE_GEMINI_BASE_URL": fake.base_url,
                "HIGHLIGHTS_GEMINI_MODEL": "gemini-test-model",
            }
        )
        analyzer = get_analyzer(settings)
        fake.queue(truthful_answer(lecture))
        result = analyze(analyzer, lecture)
    assert isinstance(analyzer, GeminiAnalyzer)
    assert fake.requests[0].model == "gemini-test-model"
    assert result.provider == "gemini" and len(result.segments) == len(lecture.topics)


def test_slide_titles_and_text_are_in_the_prompt_with_their_times(lecture):
    slides = [
        Slide(t["start"] - 0.5, t["end"], t["title"], (SlideLine(f"About {t['title'].lower()}", 0.9),), 0.9)
        for t in lecture.topics
    ]
    with FakeGemini() as fake:
        fake.queue(truthful_answer(lecture))
        make_analyzer(fake).analyze(
            transcript_from_speech(lecture.speech), slide_changes=lecture.slide_changes,
            silences=[], duration=lecture.duration, slides=slides)
    prompt = fake.requests[0].texts[0]
    for slide in slides:
        assert f"- {slide.start:.1f}-{slide.end:.1f} {slide.title}: {slide.lines[0].text}" in prompt
