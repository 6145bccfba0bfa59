"""The OpenAI-compatible analyzer, with the real openai SDK talking to a local fake server.

tests/fakes/chat_server.py speaks chat completions on 127.0.0.1; each test scripts its
replies (good answers, fenced or truncated JSON, nonsense, rate limits, outages, refused
response formats) and inspects the requests the SDK actually sent.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from highlights.content import AnalysisError, get_analyzer
from highlights.content.llm_json import answer_json
from highlights.content.local import LocalAnalyzer
from highlights.content.openai_chat import (
    FALLBACK_PROVIDER,
    PLACEHOLDER_API_KEY,
    OpenAIChatAnalyzer,
    RetryPolicy,
)
from highlights.content.windows import plan_windows
from highlights.settings import SettingsError, load_settings, validate_provider_keys
from highlights.types import SilenceRegion, Slide, SlideLine, Transcript
from tests.content_topics import (
    DATA_STRUCTURES,
    BuiltLecture,
    build_lecture,
    transcript_from_speech,
)
from tests.fakes.chat_server import (
    FakeChatServer,
    RecordedRequest,
    Reply,
    error_reply,
    json_reply,
    text_reply,
)

MODEL = "llama3.1:8b"
LINE = re.compile(r"^\[(\d+)\] ", re.MULTILINE)
FAST_RETRY = RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.2, max_total_seconds=10)


def make_analyzer(fake: FakeChatServer, **overrides) -> OpenAIChatAnalyzer:
    options = dict(
        base_url=fake.base_url,
        model=MODEL,
        api_key=fake.api_key,
        retry=FAST_RETRY,
        request_timeout=10,
    )
    options.update(overrides)
    return OpenAIChatAnalyzer(**options)


def topic_first_lines(lecture: BuiltLecture) -> list[int]:
    starts = [item["start"] for item in lecture.speech]
    return [starts.index(t["start"]) for t in lecture.topics]


def truthful_segments(lecture: BuiltLecture, request: RecordedRequest) -> list[dict]:
    """What a good model answers: the true topics, clipped to the lines it was sent."""
    shown = [int(i) for i in LINE.findall(request.prompt)]
    lo, hi = min(shown), max(shown)
    firsts = topic_first_lines(lecture)
    bounds = [*firsts, len(lecture.speech)]
    segments = []
    for k, topic in enumerate(lecture.topics):
        first, last = max(bounds[k], lo), min(bounds[k + 1] - 1, hi)
        if first <= last:
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
    return segments


def truthful_answer(lecture: BuiltLecture, wrap=lambda text: text, **reply_options):
    def respond(request: RecordedRequest) -> Reply:
        answer = json.dumps({"segments": truthful_segments(lecture, request)}, indent=1)
        return text_reply(wrap(answer), **reply_options)

    return respond


@pytest.fixture()
def lecture() -> BuiltLecture:
    return build_lecture(DATA_STRUCTURES)


def analyze(analyzer, lecture: BuiltLecture, silences=(), slides=()):
    return analyzer.analyze(
        transcript_from_speech(lecture.speech),
        slide_changes=lecture.slide_changes,
        silences=list(silences),
        duration=lecture.duration,
        slides=slides,
    )


def assert_true_topics(result, lecture: BuiltLecture) -> None:
    assert [s.topic for s in result.segments] == [t["title"] for t in lecture.topics]
    assert [s.start for s in result.segments] == pytest.approx(
        [lecture.speech[i]["start"] for i in topic_first_lines(lecture)]
    )
    assert_covers(result, lecture)


def assert_covers(result, lecture: BuiltLecture) -> None:
    """Ordered, contiguous, from the first speech to the last, scores in 0-1."""
    segs = result.segments
    assert segs[0].start == pytest.approx(lecture.speech[0]["start"])
    assert segs[-1].end == pytest.approx(lecture.speech[-1]["end"])
    assert all(a.end == b.start for a, b in zip(segs, segs[1:], strict=False))
    assert all(s.start < s.end and 0.0 <= s.importance_score <= 1.0 for s in segs)


def test_server_with_json_schema_gets_the_shared_prompt_and_schema(lecture):
    silences = [SilenceRegion(50.0, 52.5, "audio_silence", -40.0)]
    slides = [
        Slide(t["start"] - 0.5, t["end"], t["title"], (SlideLine(f"About {t['title']}", 0.9),), 0.9)
        for t in lecture.topics
    ]
    with FakeChatServer() as fake:
        fake.queue(truthful_answer(lecture))
        result = analyze(make_analyzer(fake), lecture, silences, slides)

    assert result.provider == "openai" and result.model == MODEL
    assert_true_topics(result, lecture)
    important = next(s for s in result.segments if s.topic == "Hash Table Collisions")
    assert important.importance_score == 0.9 and important.concepts == ["data structures"]

    (request,) = fake.requests
    assert request.path == "/v1/chat/completions" and request.model == MODEL
    # No key configured: the SDK still sends one, a placeholder local servers ignore.
    assert request.headers["authorization"] == f"Bearer {PLACEHOLDER_API_KEY}"
    assert request.roles == ["system", "user"]
    assert "segment university lecture transcripts" in request.system_text
    fmt = request.body["response_format"]
    assert fmt["type"] == "json_schema"
    schema = fmt["json_schema"]["schema"]
    item = schema["$defs"]["TopicSegmentAnswer"]
    assert {"first_line", "last_line", "topic", "importance", "keywords"} <= set(item["properties"])
    assert item["additionalProperties"] is False  # what OpenAI's strict mode requires
    first = lecture.speech[0]
    assert f"[0] {first['start']:.1f}-{first['end']:.1f} {first['text']}" in request.prompt
    assert f"{lecture.slide_changes[1]:.1f}" in request.prompt and "50.0-52.5" in request.prompt
    for slide in slides:
        assert f"- {slide.start:.1f}-{slide.end:.1f} {slide.title}: {slide.lines[0].text}" in (
            request.prompt
        )


@pytest.mark.parametrize(
    ("formats", "expected_asks"),
    [
        ({"json_object", "text"}, ["json_schema", "json_object"]),
        ({"text"}, ["json_schema", "json_object", "text"]),
    ],
)
def test_server_without_json_schema_is_asked_with_simpler_formats(lecture, formats, expected_asks):
    with FakeChatServer(formats=frozenset(formats)) as fake:
        fake.fallback = truthful_answer(lecture)
        analyzer = make_analyzer(fake)
        result = analyze(analyzer, lecture)
        assert fake.formats_asked == expected_asks
        assert_true_topics(result, lecture)
        assert any("refused structured output" in note for note in result.notes)

        # The step down sticks: the next lecture goes straight to the accepted format.
        fake.requests.clear()
        analyze(analyzer, lecture)
        assert fake.formats_asked == expected_asks[-1:]
    # Without a schema the model must learn the shape from the system message.
    assert '"first_line": integer' in fake.requests[0].system_text


def test_fenced_answer_with_prose_is_used_without_reasking(lecture):
    def fenced(text: str) -> str:
        return f"Sure! Here are the topics:\n\n```json\n{text}\n```\n\nLet me know if..."

    with FakeChatServer() as fake:
        fake.queue(truthful_answer(lecture, wrap=fenced))
        result = analyze(make_analyzer(fake), lecture)
    assert len(fake.requests) == 1
    assert result.provider == "openai"
    assert_true_topics(result, lecture)


def test_answer_cut_short_after_the_last_segment_is_closed_and_used(lecture):
    def unclosed(text: str) -> str:
        return text.rstrip().removesuffix("}").rstrip().removesuffix("]")  # lost "]}"

    with FakeChatServer() as fake:
        fake.queue(truthful_answer(lecture, wrap=unclosed, finish_reason="length"))
        result = analyze(make_analyzer(fake), lecture)
    assert len(fake.requests) == 1
    assert_true_topics(result, lecture)


def test_truncated_answer_is_reasked_then_used(lecture):
    def truncated(request: RecordedRequest) -> Reply:
        text = json.dumps({"segments": truthful_segments(lecture, request)})
        return text_reply(text[: len(text) // 2], finish_reason="length")

    with FakeChatServer() as fake:
        fake.queue(truncated, truthful_answer(lecture))
        result = analyze(make_analyzer(fake), lecture)

    assert len(fake.requests) == 2
    second = fake.requests[1]
    assert second.roles == ["system", "user", "assistant", "user"]
    assert (
        second.messages[2]["content"]
        == truncated(fake.requests[0]).body["choices"][0]["message"]["content"]
    )  # our cut-off answer, quoted back
    # The half that arrived is kept as far as it goes, so the re-ask names the lines lost.
    assert "are in no segment" in second.last_user_text
    assert "cut off" in second.last_user_text
    assert result.provider == "openai"
    assert_true_topics(result, lecture)
    assert any("re-asked once" in note for note in result.notes)


def test_nonsense_twice_falls_back_to_local_with_a_note(lecture):
    with FakeChatServer() as fake:
        fake.queue(
            text_reply("I'm sorry, I cannot help with segmenting lectures."),
            json_reply({"segments": [{"first_line": 0, "last_line": 3, "topic": "Segment 1"}]}),
        )
        result = analyze(make_analyzer(fake), lecture)

    assert len(fake.requests) == 2
    assert "not valid JSON" in fake.requests[1].last_user_text
    assert result.provider == FALLBACK_PROVIDER == "local-texttiling (fallback from openai)"
    assert f"openai ({MODEL})" in result.notes[0] and "unusably twice" in result.notes[0]
    assert "does not match the schema" in result.notes[0]
    local = LocalAnalyzer().analyze(
        transcript_from_speech(lecture.speech),
        slide_changes=lecture.slide_changes,
        silences=[],
        duration=lecture.duration,
    )
    assert result.segments == local.segments


def test_rate_limit_storm_is_retried_then_succeeds(lecture):
    with FakeChatServer() as fake:
        fake.queue(
            error_reply(429, "Rate limit reached", headers={"retry-after-ms": "50"}),
            error_reply(429, "Rate limit reached"),
            error_reply(503, "Model is loading"),
            error_reply(502),
            truthful_answer(lecture),
        )
        result = analyze(make_analyzer(fake), lecture)
    assert len(fake.requests) == 5
    assert result.provider == "openai"
    assert_true_topics(result, lecture)


def test_endless_outage_fails_transient_within_the_attempt_budget(lecture):
    with FakeChatServer(fallback=lambda r: error_reply(503, "server overloaded")) as fake:
        t0 = time.monotonic()
        with pytest.raises(AnalysisError) as caught:
            analyze(make_analyzer(fake), lecture)
        elapsed = time.monotonic() - t0
    error = caught.value
    assert error.transient is True
    assert len(fake.requests) == FAST_RETRY.max_attempts
    assert "503" in error.message and "overloaded" in error.message
    assert fake.base_url in error.message and MODEL in error.message
    assert elapsed < 5


def test_endless_rate_limit_gives_up_at_the_total_time_bound(lecture):
    policy = RetryPolicy(max_attempts=1000, base_delay=0.1, max_delay=0.1, max_total_seconds=1.0)
    with FakeChatServer(fallback=lambda r: error_reply(429, "slow down")) as fake:
        t0 = time.monotonic()
        with pytest.raises(AnalysisError) as caught:
            analyze(make_analyzer(fake, retry=policy), lecture)
        elapsed = time.monotonic() - t0
    assert caught.value.transient is True and "429" in caught.value.message
    assert elapsed < 3
    assert 3 <= len(fake.requests) < 30  # stopped by time, not by the attempt count


def test_timeout_is_retried(lecture):
    with FakeChatServer() as fake:
        fake.queue(Reply(200, {}, delay=1.5), truthful_answer(lecture))
        result = analyze(make_analyzer(fake, request_timeout=0.5), lecture)
    assert len(fake.requests) == 2
    assert result.provider == "openai"


def test_rejected_key_fails_at_once_not_transient(lecture):
    with FakeChatServer(api_key="the-right-key") as fake:
        analyzer = make_analyzer(fake, api_key="a-wrong-key")
        with pytest.raises(AnalysisError) as caught:
            analyze(analyzer, lecture)
    error = caught.value
    assert error.transient is False
    assert "HIGHLIGHTS_LLM_API_KEY" in error.message and "401" in error.message
    assert fake.base_url in error.message and MODEL in error.message
    assert len(fake.requests) == 1  # 401 is not retried
    assert fake.requests[0].headers["authorization"] == "Bearer a-wrong-key"


def test_unknown_model_fails_at_once_not_transient(lecture):
    with (
        FakeChatServer(models=frozenset({"qwen2.5:7b"})) as fake,
        pytest.raises(AnalysisError) as caught,
    ):
        analyze(make_analyzer(fake), lecture)
    assert caught.value.transient is False
    assert "HIGHLIGHTS_LLM_MODEL" in caught.value.message and MODEL in caught.value.message
    assert len(fake.requests) == 1


def test_bad_request_in_every_format_is_permanent(lecture):
    too_long = "This model's maximum context length is 8192 tokens."
    with (
        FakeChatServer(fallback=lambda r: error_reply(400, too_long)) as fake,
        pytest.raises(AnalysisError) as caught,
    ):
        analyze(make_analyzer(fake), lecture)
    assert caught.value.transient is False and too_long in caught.value.message
    assert fake.formats_asked == ["json_schema", "json_object", "text"]


def test_unreachable_server_is_transient(lecture):
    with FakeChatServer() as fake:
        url = fake.base_url
    analyzer = OpenAIChatAnalyzer(base_url=url, model=MODEL, retry=FAST_RETRY, request_timeout=2)
    with pytest.raises(AnalysisError, match="could not reach") as caught:
        analyze(analyzer, lecture)
    assert caught.value.transient is True and url in caught.value.message


def test_long_lecture_is_split_into_windows_that_cover_it():
    long_lecture = build_lecture(DATA_STRUCTURES, repeat=4)  # ~24 min
    window, overlap = 8 * 60, 90
    starts = [item["start"] for item in long_lecture.speech]
    expected = plan_windows(starts, window, overlap)
    assert len(expected) >= 3, "test setup: the lecture should need several windows"
    with FakeChatServer() as fake:
        fake.fallback = truthful_answer(long_lecture)
        analyzer = make_analyzer(fake, window_seconds=window, overlap_seconds=overlap)
        result = analyze(analyzer, long_lecture)

    assert len(fake.requests) == len(expected)
    sent = [[int(i) for i in LINE.findall(r.prompt)] for r in fake.requests]
    assert [(lines[0], lines[-1]) for lines in sent] == [
        (w.first_line, w.last_line) for w in expected
    ]
    assert all(later[0] <= earlier[-1] for earlier, later in zip(sent, sent[1:], strict=False))
    assert f"in {len(expected)} request window(s)" in result.notes[0]
    assert_true_topics(result, long_lecture)  # no topic cut in two at a window border


def test_default_window_follows_the_setting(lecture):
    analyzer = OpenAIChatAnalyzer(base_url="http://localhost:11434/v1", model=MODEL)
    assert analyzer.window_seconds == 15 * 60
    assert 60 <= analyzer.overlap_seconds <= 300


def test_empty_transcript_sends_nothing():
    with FakeChatServer() as fake:
        result = make_analyzer(fake).analyze(
            Transcript(segments=[]), slide_changes=[], silences=[], duration=30.0
        )
    assert result.segments == [] and fake.requests == []
    assert any("no speech" in note for note in result.notes)


def test_settings_path_builds_and_runs_the_analyzer(lecture):
    with FakeChatServer(api_key="env-key") as fake:
        settings = load_settings(
            {
                "HIGHLIGHTS_ANALYZER": "openai",
                "HIGHLIGHTS_LLM_BASE_URL": fake.base_url + "/",
                "HIGHLIGHTS_LLM_MODEL": "qwen2.5:7b-instruct",
                "HIGHLIGHTS_LLM_API_KEY": "env-key",
                "HIGHLIGHTS_LLM_WINDOW_SECONDS": "120",
            }
        )
        validate_provider_keys(settings)
        analyzer = get_analyzer(settings)
        fake.fallback = truthful_answer(lecture)
        result = analyze(analyzer, lecture)
    assert isinstance(analyzer, OpenAIChatAnalyzer) and analyzer.window_seconds == 120
    assert {r.model for r in fake.requests} == {"qwen2.5:7b-instruct"}
    assert fake.requests[0].headers["authorization"] == "Bearer env-key"
    assert len(fake.requests) > 1  # a ~6-minute lecture in 2-minute windows
    assert result.provider == "openai"
    assert_true_topics(result, lecture)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "HIGHLIGHTS_LLM_BASE_URL and HIGHLIGHTS_LLM_MODEL"),
        ({"HIGHLIGHTS_LLM_BASE_URL": "http://localhost:11434/v1"}, "HIGHLIGHTS_LLM_MODEL"),
        ({"HIGHLIGHTS_LLM_MODEL": MODEL}, "HIGHLIGHTS_LLM_BASE_URL"),
    ],
)
def test_missing_server_or_model_is_a_clear_settings_error(env, missing):
    settings = load_settings({"HIGHLIGHTS_ANALYZER": "openai", **env})
    with pytest.raises(SettingsError, match=f"needs {missing} ") as caught:
        validate_provider_keys(settings)
    assert "\n" not in str(caught.value)
    with pytest.raises(AnalysisError, match=missing) as failed:
        get_analyzer(settings)
    assert failed.value.transient is False


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('<think>{"maybe": 1}</think>\n{"segments": []}', '{"segments": []}'),
        ('[{"first_line": 0}] and that is all', '{"segments": [{"first_line": 0}]}'),
        ('{"segments": [{"topic": "a } b"}, {"topic": "c"', '{"segments": [{"topic": "a } b"}]}'),
        ('{"segments": [{"first_line": 0, ', '{"segments": [{"first_line": 0, '),  # unrepairable
        ("no JSON here", "no JSON here"),
    ],
)
def test_answer_json_recovers_what_can_be_recovered(reply, expected):
    assert answer_json(reply) == expected


def test_content_analysis_stage_with_the_openai_analyzer(lecture, sqlite_template, tmp_path):
    """The pipeline's content_analysis stage, configured only through the environment:
    it reads the stored transcript, asks the server and stores the topics as rows."""
    import shutil

    from sqlalchemy import select

    from db.engine import get_engine, session_scope
    from db.models import ContentSegment
    from flows.jobs import create_job
    from tasks import content_analysis
    from tasks.context import TRANSCRIPT_JSON, StageContext

    database = tmp_path / "highlights.db"
    shutil.copyfile(sqlite_template, database)  # migrated to head once per session
    with FakeChatServer() as fake:
        fake.fallback = truthful_answer(lecture)
        settings = load_settings(
            {
                "HIGHLIGHTS_DATABASE_URL": f"sqlite:///{database}",
                "HIGHLIGHTS_STORAGE_URL": str(tmp_path / "store"),
                "HIGHLIGHTS_WORK_DIR": str(tmp_path / "work"),
                "HIGHLIGHTS_ANALYZER": "openai",
                "HIGHLIGHTS_LLM_BASE_URL": fake.base_url,
                "HIGHLIGHTS_LLM_MODEL": MODEL,
            }
        )
        source = tmp_path / "lecture.mp4"
        source.write_bytes(b"not really a video: this stage never reads it")
        ctx = StageContext(create_job(settings, str(source)), settings)
        ctx.put_json(
            ctx.result_key(TRANSCRIPT_JSON), transcript_from_speech(lecture.speech).to_dict()
        )
        stage = content_analysis.run(ctx, lecture.duration)

    assert len(fake.requests) == 1 and fake.requests[0].model == MODEL
    assert stage.agent_name == "openai" and stage.metadata["model"] == MODEL
    assert stage.metadata["analyzer_setting"] == "openai"
    # The stage's "started" log row names the same agent as its "completed" row.
    assert content_analysis.STAGE.agent_name(settings) == stage.agent_name
    with session_scope(get_engine(settings)) as session:
        rows = session.scalars(
            select(ContentSegment)
            .where(ContentSegment.job_id == ctx.job_id)
            .order_by(ContentSegment.segment_order)
        ).all()
        stored = [(r.topic, r.start_time) for r in rows]
    assert stage.rows == len(stored) == len(lecture.topics)
    assert stored == [(t["title"], pytest.approx(t["start"])) for t in lecture.topics]
