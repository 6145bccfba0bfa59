"""Clip selection on synthetic transcripts whose sentence borders we know."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from highlights.selection import (
    SelectionError,
    SelectionOptions,
    fit_to_lecture,
    select_clips,
    split_sentences,
    voice_edges,
)
from highlights.types import (
    ContentAnalysis,
    SilenceRegion,
    TopicSegment,
    Transcript,
    TranscriptSegment,
    Word,
)

FILLER = [
    "we",
    "now",
    "look",
    "at",
    "the",
    "next",
    "part",
    "of",
    "this",
    "material",
    "in",
    "some",
    "detail",
    "here",
]
# Other topics' words: real lectures do not repeat one text in every topic, and the
# selector refuses two clips that say the same thing.
FILLER_B = ["then", "we", "turn", "to", "another", "question", "about", "how", "these",
            "ideas", "apply", "in", "practice", "today"]
FILLER_C = ["finally", "we", "review", "examples", "that", "show", "where", "each",
            "method", "works", "well", "and", "fails", "badly"]


def sentence_words(start: float, text: str, rate: float = 0.4) -> list[Word]:
    """Words of one sentence, `rate` seconds each with a short gap between them."""
    words = []
    t = start
    for token in text.split():
        words.append(Word(round(t, 3), round(t + rate - 0.08, 3), token))
        t += rate
    return words


class LectureBuilder:
    """Writes sentences one after another; each transcript segment holds a few sentences."""

    def __init__(self) -> None:
        self.t = 0.0
        self.segments: list[TranscriptSegment] = []
        self.sentences: list[tuple[float, float, str]] = []

    def say(self, text: str, pause: float = 0.5, per_segment: bool = True) -> tuple[float, float]:
        words = sentence_words(self.t, text)
        start, end = words[0].start, words[-1].end
        self.sentences.append((start, end, text))
        if per_segment or not self.segments:
            self.segments.append(TranscriptSegment(start, end, text, 0.9, words))
        else:
            seg = self.segments[-1]
            seg.words.extend(words)
            seg.end = end
            seg.text += " " + text
        self.t = end + pause
        return start, end

    def filler(
        self, seconds: float, pause: float = 0.5, words_per: int = 10, vocabulary=FILLER
    ) -> tuple[float, float]:
        first = None
        last = None
        n = 0
        while self.t < first_or(first, self.t) + seconds or first is None:
            tokens = [vocabulary[(n + k) % len(vocabulary)] for k in range(words_per)]
            tokens[-1] += "."
            start, end = self.say(" ".join(tokens).capitalize(), pause)
            first = start if first is None else first
            last = end
            n += 1
        return first, last

    def transcript(self) -> Transcript:
        return Transcript(segments=self.segments, language="en")


def first_or(value, default):
    return default if value is None else value


def all_words(transcript: Transcript) -> list[Word]:
    return sorted(transcript.words, key=lambda w: w.start)


def assert_sentence_bordered(plan, words: list[Word], padding: float) -> None:
    """Independent check: the clip holds whole sentences, judged from the word texts."""
    inside = [w for w in words if w.start >= plan.start - 1e-6 and w.end <= plan.end + 1e-6]
    assert inside, f"clip {plan} holds no words"
    for w in words:
        assert not (w.start < plan.start - 1e-6 < w.end), f"clip starts mid-word {w}"
        assert not (w.start < plan.end + 1e-6 < w.end) or w.end <= plan.end + 1e-6, (
            f"clip ends mid-word {w}"
        )
    first = words.index(inside[0])
    assert first == 0 or words[first - 1].text.endswith((".", "?", "!")), "starts mid-sentence"
    assert inside[-1].text.endswith((".", "?", "!")), "ends mid-sentence"
    # Trimmed to the words, plus at most the padding.
    assert inside[0].start - plan.start <= padding + 1e-6
    assert plan.end - inside[-1].end <= padding + 1e-6


def three_topic_lecture():
    b = LectureBuilder()
    a = b.filler(100)
    b.t += 1.0
    c = b.filler(100, vocabulary=FILLER_B)
    b.t += 1.0
    d = b.filler(100, vocabulary=FILLER_C)
    segments = [
        TopicSegment(0.0, (a[1] + c[0]) / 2, "Intro", None, 0.3),
        TopicSegment((a[1] + c[0]) / 2, (c[1] + d[0]) / 2, "Core idea", None, 0.9),
        TopicSegment((c[1] + d[0]) / 2, d[1] + 2, "Applications", None, 0.6),
    ]
    return b, ContentAnalysis(segments, provider="test"), d[1] + 2


def test_clips_ranked_by_importance_within_bounds_and_on_sentence_borders():
    b, analysis, duration = three_topic_lecture()
    transcript = b.transcript()
    options = SelectionOptions(count=3, min_seconds=30, max_seconds=60, padding=0.25)
    plans = select_clips(analysis, transcript, [], duration, options)

    assert [p.rank for p in plans] == [1, 2, 3]
    assert [p.topic for p in plans] == ["Core idea", "Applications", "Intro"]
    assert [p.importance_score for p in plans] == [0.9, 0.6, 0.3]
    words = all_words(transcript)
    for plan in plans:
        assert 30 <= plan.duration <= 60 + 2 * options.padding
        seg = analysis.segments[plan.segment_index]
        assert seg.start <= plan.start and plan.end <= seg.end + options.padding
        assert_sentence_bordered(plan, words, options.padding)
    spans = sorted((p.start, p.end) for p in plans)
    assert all(a[1] <= b_[0] for a, b_ in zip(spans, spans[1:], strict=False))


def test_count_limits_the_number_of_clips():
    b, analysis, duration = three_topic_lecture()
    plans = select_clips(
        analysis,
        b.transcript(),
        [],
        duration,
        SelectionOptions(count=1, min_seconds=30, max_seconds=60),
    )
    assert len(plans) == 1 and plans[0].topic == "Core idea"


def test_long_segment_is_cut_to_its_strongest_sentences():
    b = LectureBuilder()
    b.filler(80)
    strong_start, _ = b.say("Remember this key idea: a hash table gives constant time lookup.")
    b.say("The important point is that hashing spreads keys evenly across buckets.")
    _, strong_end = b.say("In summary the hash table trades memory for speed.")
    b.filler(120)
    duration = b.t + 1
    seg = TopicSegment(
        0.0,
        duration,
        "Hash tables",
        None,
        0.8,
        keywords=["hash table", "hashing"],
        concepts=["buckets"],
    )
    plans = select_clips(
        ContentAnalysis([seg], "test"),
        b.transcript(),
        [],
        duration,
        SelectionOptions(count=1, min_seconds=20, max_seconds=40),
    )
    assert len(plans) == 1
    plan = plans[0]
    assert plan.duration <= 40.5
    assert plan.start <= strong_start and strong_end <= plan.end, (plan, strong_start, strong_end)
    assert_sentence_bordered(plan, all_words(b.transcript()), 0.25)


def test_short_segment_borrows_close_neighbouring_sentences():
    b = LectureBuilder()
    b.filler(40)
    s0, _ = b.say("Here is the crucial theorem of today and you should write it down now please.")
    _, s1 = b.say("It says every bounded monotone sequence converges to a limit in the reals.")
    b.filler(40)
    duration = b.t + 1
    mid = [s0 - 0.25, s1 + 0.25]
    segments = [
        TopicSegment(0.0, mid[0], "Warm up", None, 0.2),
        TopicSegment(mid[0], mid[1], "Monotone convergence", None, 0.95),
        TopicSegment(mid[1], duration, "Exercises", None, 0.1),
    ]
    own = s1 - s0
    assert own < 15
    plans = select_clips(
        ContentAnalysis(segments, "test"),
        b.transcript(),
        [],
        duration,
        SelectionOptions(count=1, min_seconds=15, max_seconds=40),
    )
    assert len(plans) == 1 and plans[0].topic == "Monotone convergence"
    assert plans[0].start <= s0 and plans[0].end >= s1
    assert plans[0].duration >= 15
    assert_sentence_bordered(plans[0], all_words(b.transcript()), 0.25)

    # Same segment but too short to own half of a minimum-length clip: skipped.
    plans = select_clips(
        ContentAnalysis(segments, "test"),
        b.transcript(),
        [],
        duration,
        SelectionOptions(count=1, min_seconds=30, max_seconds=40),
    )
    assert plans and all(p.topic != "Monotone convergence" for p in plans)


def test_short_segment_is_skipped_when_neighbours_are_behind_long_pauses():
    b = LectureBuilder()
    b.filler(40)
    b.t += 8.0  # a long pause: the lecturer moved on
    s0, _ = b.say("Here is the crucial theorem of today and you should write it down now please.")
    _, s1 = b.say("It says every bounded monotone sequence converges to a limit in the reals.")
    b.t += 8.0
    b.filler(40, vocabulary=FILLER_B)
    duration = b.t + 1
    segments = [
        TopicSegment(0.0, s0 - 1, "Warm up", None, 0.2),
        TopicSegment(s0 - 1, s1 + 1, "Monotone convergence", None, 0.95),
        TopicSegment(s1 + 1, duration, "Exercises", None, 0.1),
    ]
    plans = select_clips(
        ContentAnalysis(segments, "test"),
        b.transcript(),
        [],
        duration,
        SelectionOptions(count=3, min_seconds=15, max_seconds=40),
    )
    assert [p.topic for p in plans] == ["Warm up", "Exercises"]
    assert [p.rank for p in plans] == [1, 2]


def test_words_without_punctuation_fall_back_to_segment_borders():
    b = LectureBuilder()
    for k in range(12):
        b.say(" ".join(FILLER[: 8 + k % 3]))  # no full stops at all
    duration = b.t + 1
    transcript = b.transcript()
    seg = TopicSegment(0.0, duration, "Topic", None, 0.5)
    plans = select_clips(
        ContentAnalysis([seg], "test"),
        transcript,
        [],
        duration,
        SelectionOptions(count=1, min_seconds=10, max_seconds=20),
    )
    assert len(plans) == 1
    starts = {round(s.start, 3) for s in transcript.segments}
    ends = {round(s.end, 3) for s in transcript.segments}
    inside = [w for w in transcript.words if plans[0].start <= w.start and w.end <= plans[0].end]
    assert round(inside[0].start, 3) in starts and round(inside[-1].end, 3) in ends


def test_unpunctuated_words_borrow_punctuation_from_segment_text():
    words = sentence_words(0.0, "so this is one idea and this is another one")
    text = "So this is one idea. And this is another one."
    transcript = Transcript([TranscriptSegment(0.0, words[-1].end, text, 0.9, words)])
    sentences = split_sentences(transcript)
    assert [s.text for s in sentences] == ["so this is one idea", "and this is another one"]
    assert sentences[0].end == words[4].end and sentences[1].start == words[5].start


def test_abbreviations_do_not_end_sentences():
    words = sentence_words(0.0, "Sorting e.g. merge sort is fast. Dr. Knuth agrees.")
    transcript = Transcript([TranscriptSegment(0.0, words[-1].end, "", 0.9, words)])
    assert [s.text for s in split_sentences(transcript)] == [
        "Sorting e.g. merge sort is fast.",
        "Dr. Knuth agrees.",
    ]


def test_overlong_unpunctuated_sentence_is_split_at_its_longest_pause():
    words = sentence_words(0.0, " ".join(FILLER * 4))  # ~22 s, no punctuation
    # Insert a long pause after word 20.
    words = words[:20] + [Word(w.start + 3, w.end + 3, w.text) for w in words[20:]]
    transcript = Transcript([TranscriptSegment(0.0, words[-1].end, "", 0.9, words)])
    pieces = split_sentences(transcript, max_seconds=15)
    assert len(pieces) >= 2 and all(p.duration <= 15 for p in pieces)
    assert pieces[0].end == words[19].end and pieces[1].start == words[20].start


def test_segments_without_words_are_units_trimmed_of_silence():
    segs = [
        TranscriptSegment(10.0 * k, 10.0 * k + 9.5, f"Sentence number {k}.", 0.9) for k in range(10)
    ]
    transcript = Transcript(segs)
    silences = [SilenceRegion(30.0, 31.5, "audio_silence")]  # the 4th unit starts in silence
    seg = TopicSegment(30.0, 100.0, "Later", None, 0.7)
    plans = select_clips(
        ContentAnalysis([seg], "test"),
        transcript,
        silences,
        100.0,
        SelectionOptions(count=1, min_seconds=20, max_seconds=35, padding=0.25),
    )
    assert len(plans) == 1
    plan = plans[0]
    # Starts where speech resumes after the silence (not inside it), ends at a unit end.
    assert plan.start >= 31.5 - 0.25 - 1e-6
    assert any(abs(plan.end - 0.25 - s.end) < 1e-6 or abs(plan.end - s.end) < 0.26 for s in segs)
    assert 20 <= plan.duration <= 35.5


def test_lecture_shorter_than_minimum_gives_one_clip_of_all_speech():
    b = LectureBuilder()
    b.say("This is a very short lecture.")
    b.say("It has only two sentences.")
    duration = b.t + 3
    segments = [TopicSegment(0, 2, "A", None, 0.2), TopicSegment(2, duration, "B", None, 0.7)]
    plans = select_clips(
        ContentAnalysis(segments, "test"),
        b.transcript(),
        [],
        duration,
        SelectionOptions(count=5, min_seconds=30, max_seconds=90, padding=0.25),
    )
    assert len(plans) == 1
    words = all_words(b.transcript())
    assert plans[0].start == 0.0  # the first word starts at 0: padding stops at the file start
    assert plans[0].end == pytest.approx(words[-1].end + 0.25)
    assert plans[0].topic == "B" and plans[0].segment_index == 1 and plans[0].rank == 1


def test_padding_stops_halfway_to_neighbouring_words_and_inside_the_file():
    b = LectureBuilder()
    b.filler(20, pause=0.1)  # sentences 0.1 s apart: padding must shrink to 0.05
    b.say("Remember this important idea because it is crucial.", pause=0.1)
    b.filler(20, pause=0.1)
    duration = b.t - 0.1  # speech runs to the very end of the file
    seg = TopicSegment(0.0, duration, "All", None, 0.5)
    plans = select_clips(
        ContentAnalysis([seg], "test"),
        b.transcript(),
        [],
        duration,
        SelectionOptions(count=1, min_seconds=10, max_seconds=12, padding=1.0),
    )
    words = all_words(b.transcript())
    plan = plans[0]
    inside = [w for w in words if w.start >= plan.start and w.end <= plan.end]
    before = [w for w in words if w.end <= inside[0].start]
    after = [w for w in words if w.start >= inside[-1].end]
    assert before and after, "the cue sentence should pull the clip into the middle"
    assert plan.start == pytest.approx((before[-1].end + inside[0].start) / 2)
    assert plan.end == pytest.approx((inside[-1].end + after[0].start) / 2)
    assert plan.start >= 0.0 and plan.end <= duration

    # At the very end of the file the padding stops at the duration.
    seg = TopicSegment(duration - 8, duration, "End", None, 0.9)
    plans = select_clips(
        ContentAnalysis([seg], "test"),
        b.transcript(),
        [],
        duration,
        SelectionOptions(count=1, min_seconds=5, max_seconds=12, padding=1.0),
    )
    assert plans[0].end == pytest.approx(duration)


def test_no_segments_gives_no_clips_and_bad_options_raise():
    b, _, duration = three_topic_lecture()
    assert select_clips(ContentAnalysis([], "test"), b.transcript(), [], duration) == []
    with pytest.raises(SelectionError, match="shorter than the minimum"):
        SelectionOptions(min_seconds=60, max_seconds=30).validate()
    with pytest.raises(SelectionError, match="count"):
        select_clips(
            ContentAnalysis([], "t"), b.transcript(), [], duration, SelectionOptions(count=0)
        )
    with pytest.raises(SelectionError, match="duration"):
        select_clips(ContentAnalysis([], "t"), b.transcript(), [], 0.0)


def test_lecture_without_speech_clips_segments_trimmed_of_silence():
    segments = [
        TopicSegment(0, 100, "Silent demo", None, 0.9),
        TopicSegment(100, 120, "Too short", None, 0.8),
    ]
    silences = [SilenceRegion(0, 5, "both")]
    plans = select_clips(
        ContentAnalysis(segments, "test"),
        Transcript([]),
        silences,
        120.0,
        SelectionOptions(count=5, min_seconds=30, max_seconds=60),
    )
    assert [(p.start, p.end, p.topic) for p in plans] == [(5.0, 65.0, "Silent demo")]


def test_selection_is_deterministic_and_ignores_segment_order():
    b, analysis, duration = three_topic_lecture()
    transcript = b.transcript()
    options = SelectionOptions(count=3, min_seconds=30, max_seconds=60)
    first = select_clips(analysis, transcript, [], duration, options)
    shuffled = Transcript(list(transcript.segments))
    random.Random(7).shuffle(shuffled.segments)
    assert select_clips(analysis, shuffled, [], duration, options) == first


# --- the generated lectures (tests/fixtures/lectures) --------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "lectures"
LECTURES = sorted(p.stem for p in FIXTURES.glob("*.json") if p.with_suffix(".mp4").exists())


def fixture_inputs(name: str):
    """Transcript, analysis and silences from a lecture's ground truth.

    The ground truth times sentences, not words: words are spread over each sentence
    by length, as a transcriber's word timings would be.
    """
    truth = json.loads((FIXTURES / f"{name}.json").read_text())
    segments = []
    for s in truth["speech"]:
        tokens = s["text"].split()
        weights = [len(t) + 1 for t in tokens]
        per = (s["end"] - s["start"]) / sum(weights)
        t, words = s["start"], []
        for token, w in zip(tokens, weights, strict=True):
            words.append(Word(round(t, 3), round(t + w * per - 0.02, 3), token))
            t += w * per
        segments.append(TranscriptSegment(s["start"], s["end"], s["text"], 0.9, words))
    topics = [
        TopicSegment(
            t["start"],
            t["end"],
            t["title"],
            None,
            0.9 if t["important"] else 0.5,
            keywords=t["keywords"],
        )
        for t in truth["topics"]
    ]
    silences = [SilenceRegion(p["start"], p["end"], "audio_silence") for p in truth["pauses"]]
    if truth["blank"]:
        silences.append(SilenceRegion(truth["blank"]["start"], truth["blank"]["end"], "both"))
    return truth, Transcript(segments), ContentAnalysis(topics, "truth"), silences


@pytest.mark.parametrize("name", LECTURES)
def test_generated_lectures_give_sentence_bordered_clips_led_by_the_important_topic(name):
    truth, transcript, analysis, silences = fixture_inputs(name)
    options = SelectionOptions(count=5, min_seconds=30, max_seconds=90, padding=0.25)
    plans = select_clips(analysis, transcript, silences, truth["duration"], options)

    assert plans, f"{name}: no clips"
    important = [t["title"] for t in truth["topics"] if t["important"]]
    assert plans[0].topic in important and plans[0].rank == 1
    assert len({p.segment_index for p in plans}) == len(plans)
    starts = [s["start"] for s in truth["speech"]]
    ends = [s["end"] for s in truth["speech"]]
    for plan in plans:
        assert 30 <= plan.duration <= 90 + 2 * options.padding
        # Independent of our sentence splitter: borders are the truth's sentence times.
        assert min(abs(plan.start - s) for s in starts) <= options.padding + 0.01
        assert min(abs(plan.end - e) for e in ends) <= options.padding + 0.01
        if truth["blank"]:
            assert not (plan.start < truth["blank"]["start"] and truth["blank"]["end"] < plan.end)
    # The clip of the important topic holds its key lecturer cues.
    for cue in truth["important_cues"]:
        if any(
            t["start"] <= cue["start"] < t["end"] and t["title"] == plans[0].topic
            for t in truth["topics"]
        ):
            topic = next(t for t in truth["topics"] if t["title"] == plans[0].topic)
            if topic["end"] - topic["start"] <= 90:
                assert plans[0].start <= cue["start"] and cue["end"] <= plans[0].end
    spans = sorted((p.start, p.end) for p in plans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize("name", LECTURES)
def test_generated_lectures_cut_long_topics_to_their_lecturer_cues(name):
    truth, transcript, analysis, silences = fixture_inputs(name)
    plan = select_clips(
        analysis,
        transcript,
        silences,
        truth["duration"],
        SelectionOptions(count=1, min_seconds=10, max_seconds=20),
    )[0]
    assert plan.duration <= 20.5
    held = [c for c in truth["important_cues"] if plan.start <= c["start"] and c["end"] <= plan.end]
    assert held, f"{name}: the {plan.duration:.0f} s clip holds none of the lecturer's cues"


def test_dead_air_counts_overlapping_silences_once_and_steers_the_cut():
    from highlights.selection import _dead_air

    regions = [
        SilenceRegion(2, 6, "audio_silence"),
        SilenceRegion(4, 8, "both"),
        SilenceRegion(4, 5, "blank_screen"),
        SilenceRegion(20, 30, "audio_silence"),
    ]
    assert _dead_air(0, 10, regions, [], 0, 0) == pytest.approx(6.0)
    assert _dead_air(5, 25, regions, [], 0, 0) == pytest.approx(8.0)

    # Two equally plain halves; one has a long silence inside: the cut avoids it.
    b = LectureBuilder()
    first = b.filler(30, pause=0.3)
    b.filler(30, pause=0.3)
    duration = b.t + 1
    quiet = SilenceRegion(first[0] + 10, first[0] + 12, "both")  # a stretch of dead air
    seg = TopicSegment(0.0, duration, "All", None, 0.5)
    plan = select_clips(
        ContentAnalysis([seg], "test"),
        b.transcript(),
        [quiet],
        duration,
        SelectionOptions(count=1, min_seconds=20, max_seconds=28),
    )[0]
    assert not (plan.start < quiet.start and quiet.end < plan.end)


# --- issue: sentence-exact windows inside long topics -------------------------------


def test_segment_borders_inside_sentences_are_not_clip_borders():
    """Whisper cuts segments at its 30-s windows, often mid-sentence: clips must not."""
    b = LectureBuilder()
    for k in range(30):
        vocabulary = (FILLER, FILLER_B, FILLER_C)[k % 3]
        b.say(" ".join(vocabulary[(k + i) % len(vocabulary)] for i in range(14)).capitalize() + ".",
              per_segment=False)
    words = all_words(b.transcript())
    # re-cut the words into segments every 9 words, ignoring sentences
    segments = []
    for i in range(0, len(words), 9):
        chunk = words[i : i + 9]
        segments.append(TranscriptSegment(chunk[0].start, chunk[-1].end,
                                          " ".join(w.text for w in chunk), 0.9, list(chunk)))
    transcript = Transcript(segments=segments, language="en")
    duration = words[-1].end + 1
    plans = select_clips(ContentAnalysis([TopicSegment(0.0, duration, "Topic", None, 0.5)], "test"),
                         transcript, [], duration, SelectionOptions(count=1, min_seconds=20, max_seconds=40))
    assert len(plans) == 1
    assert_sentence_bordered(plans[0], words, 0.25)


def test_no_whole_sentences_fit_so_the_clip_runs_over_and_says_so():
    b = LectureBuilder()
    for k in range(6):  # sentences of ~12 s: one is too short, two are over 20 s
        b.say(" ".join((FILLER * 3)[k : k + 30]).capitalize() + ".", pause=0.5)
    transcript = b.transcript()
    duration = b.t + 1
    analysis = ContentAnalysis([TopicSegment(0.0, duration, "Topic", None, 0.5)], "test")
    strict = select_clips(analysis, transcript, [], duration,
                          SelectionOptions(count=1, min_seconds=15, max_seconds=20, overrun_seconds=0))
    assert strict == []
    (plan,) = select_clips(analysis, transcript, [], duration,
                           SelectionOptions(count=1, min_seconds=15, max_seconds=20, overrun_seconds=8))
    assert 20 < plan.duration <= 28.5
    assert_sentence_bordered(plan, all_words(transcript), 0.25)
    assert plan.notes and "over the 20 s maximum" in plan.notes[0]


def test_windows_start_where_an_idea_opens_not_on_a_dangling_reference():
    b = LectureBuilder()
    b.say("Hash tables store keys in an array of buckets.")
    b.say("That is why lookups take constant time on average.")
    b.say("It also explains the need for a good hash function.")
    b.say("So let us see what happens when two keys collide.")
    b.say("Each bucket keeps a short list of the keys that landed there.")
    b.say("The list stays short when the table is large enough.")
    b.say("This is why the table doubles when it fills up.")
    b.say("Now consider deleting a key from such a table.")
    transcript = b.transcript()
    duration = b.t + 1
    (plan,) = select_clips(ContentAnalysis([TopicSegment(0.0, duration, "Hash tables", None, 0.5)], "test"),
                           transcript, [], duration, SelectionOptions(count=1, min_seconds=8, max_seconds=14))
    first = next(w for w in all_words(transcript) if w.start >= plan.start)
    assert first.text not in ("That", "It", "This"), first
    last = [w for w in all_words(transcript) if w.end <= plan.end][-1]
    following = [w for w in all_words(transcript) if w.start > last.end]
    assert not following or following[0].text not in ("That", "It", "This"), (last, following[:1])


def test_two_clips_never_share_a_topic_title_or_the_same_words():
    b = LectureBuilder()
    spans = []
    for vocabulary in (FILLER, FILLER_B, FILLER, FILLER_C):  # the third repeats the first
        spans.append(b.filler(40, vocabulary=vocabulary))
        b.t += 2.0
    duration = b.t + 1
    cuts = [0.0] + [(spans[k][1] + spans[k + 1][0]) / 2 for k in range(3)] + [duration]
    titles = ["Hash Tables", "Binary Trees", "Recap of hash tables", "Hash Tables (cont.)"]
    segments = [TopicSegment(cuts[k], cuts[k + 1], titles[k], None, 0.9 - 0.1 * k) for k in range(4)]
    plans = select_clips(ContentAnalysis(segments, "test"), b.transcript(), [], duration,
                         SelectionOptions(count=4, min_seconds=20, max_seconds=40))
    # the repeated words (segment 3) and the repeated title (segment 4) give no clip
    assert [p.topic for p in plans] == ["Hash Tables", "Binary Trees"]


def test_a_long_pause_ends_an_unpunctuated_sentence():
    words = sentence_words(0.0, "first we define the term")
    later = sentence_words(words[-1].end + 2.0, "then we use it in a proof")
    text = " ".join(w.text for w in [*words, *later])
    transcript = Transcript([TranscriptSegment(0.0, later[-1].end, text, 0.9, [*words, *later])])
    assert [s.text for s in split_sentences(transcript)] == [
        "first we define the term", "then we use it in a proof"]


# -- where the voice starts and stops ---------------------------------------------------


def test_first_word_stretched_back_into_a_pause_starts_where_the_pause_ends():
    # Measured on a one-hour lecture: "Momentum" at 2542.54-2543.26 s by the recogniser,
    # the audio silent until 2542.73 s, the speaker's first sound at 2542.745 s.
    start, end = voice_edges((2542.54, 2543.26), (2550.0, 2550.4), [(2540.08, 2542.73)])
    assert (start, end) == (2542.73, 2550.4)


def test_last_word_running_on_into_a_pause_ends_where_the_pause_begins():
    start, end = voice_edges((10.0, 10.3), (19.6, 20.5), [(20.1, 21.5)])
    assert (start, end) == (10.0, 20.1)


def test_a_pause_inside_a_word_or_between_words_moves_no_edge():
    # a stop consonant's short closure in the middle of the first word, and pauses
    # between the clip's own sentences, are not where the voice starts or stops
    pauses = [(10.15, 10.2), (13.0, 13.6), (16.2, 16.9)]
    assert voice_edges((10.0, 10.5), (19.0, 19.5), pauses) == (10.0, 19.5)


def test_a_word_mostly_inside_a_pause_gives_way_to_the_pause_edge():
    # the recogniser put most of the last word in the silence that follows it
    assert voice_edges((5.0, 5.4), (9.0, 9.6), [(9.1, 11.0)]) == (5.0, 9.1)
    # and most of the first word in the silence before it
    assert voice_edges((4.6, 5.2), (9.0, 9.3), [(3.0, 5.0)]) == (5.0, 9.3)


def test_the_default_plan_is_kept_to_a_quarter_of_a_short_lecture():
    defaults = SelectionOptions()  # 5 clips of 30-90 s
    hour, note = fit_to_lecture(defaults, 3600.0, 0.25)
    assert hour == defaults and note is None
    eight, note = fit_to_lecture(defaults, 480.0, 0.25)
    assert (eight.count, eight.max_seconds, eight.min_seconds) == (2, 60.0, 30.0)
    assert note is not None and "8.0 minutes" in note and "2 clips of at most 60 s" in note
    sample, _ = fit_to_lecture(defaults, 208.0, 0.25)
    assert (sample.count, sample.max_seconds) == (1, 52.0)
    tiny, _ = fit_to_lecture(defaults, 60.0, 0.25)
    assert (tiny.count, tiny.max_seconds) == (1, 30.0)  # never under the minimum


def test_what_the_user_chose_is_kept_when_fitting_a_short_lecture():
    four = SelectionOptions(count=4)
    fitted, _ = fit_to_lecture(four, 480.0, 0.25, count_chosen=True)
    assert (fitted.count, fitted.max_seconds) == (4, 30.0)
    longest, _ = fit_to_lecture(SelectionOptions(max_seconds=80.0), 480.0, 0.25, length_chosen=True)
    assert (longest.count, longest.max_seconds) == (2, 80.0)
    both, note = fit_to_lecture(four, 480.0, 0.25, count_chosen=True, length_chosen=True)
    assert both == four and note is None
    whole, note = fit_to_lecture(SelectionOptions(), 480.0, 1.0)
    assert whole == SelectionOptions() and note is None  # a share of 1 turns it off
