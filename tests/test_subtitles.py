"""Subtitle cues and their SRT / WebVTT files."""

from __future__ import annotations

import re

import pytest
import srt

from highlights.subtitles import (
    MAX_LINE_CHARS,
    Cue,
    build_cues,
    cues_for_span,
    cues_to_vtt,
    transcript_to_srt,
    transcript_to_vtt,
    write_srt,
    write_vtt,
)
from highlights.types import Transcript, TranscriptSegment, Word


def timed_words(text: str, start: float, *, pace: float = 0.32, gap: float = 0.05) -> list[Word]:
    words, t = [], start
    for token in text.split():
        words.append(Word(round(t, 3), round(t + pace, 3), token, 0.9))
        t += pace + gap
    return words


def segment(text: str, start: float, *, with_words: bool = True) -> TranscriptSegment:
    words = timed_words(text, start)
    return TranscriptSegment(words[0].start, words[-1].end, text, 0.9, words if with_words else [])


LONG = (
    "Dynamic programming solves a problem by combining answers to smaller subproblems, "
    "and it pays off when the same subproblems appear again and again, which happens "
    "surprisingly often in practice. With memoization we store each answer once."
)


def lecture() -> Transcript:
    return Transcript(
        segments=[
            segment(LONG, 1.0),
            segment("The Fibonacci numbers drop from exponential time to linear time.", 30.0),
            segment("Remember this definition: it will be on the exam!", 40.0),
            segment(
                "Newton's first law says an object keeps its velocity.", 55.0, with_words=False
            ),
        ],
        language="en",
    )


def test_cues_respect_line_limits_sentences_and_never_split_words():
    transcript = lecture()
    cues = build_cues(transcript.segments)
    spoken = [w.text for s in transcript.segments for w in s.words] + (
        transcript.segments[3].text.split()
    )
    assert " ".join(c.text.replace("\n", " ") for c in cues).split() == spoken
    for cue in cues:
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= MAX_LINE_CHARS for line in lines)
        assert cue.end > cue.start
        # a sentence end is always the end of a cue
        assert not re.search(r"[.!?] \S", cue.text.replace("\n", " "))
    for left, right in zip(cues, cues[1:], strict=False):
        assert left.end <= right.start


def test_a_full_cue_breaks_after_a_comma_when_it_can():
    cues = build_cues([segment(LONG, 0.0)])
    first_long_sentence = [c.text.replace("\n", " ") for c in cues[:-1]]
    assert len(first_long_sentence) >= 2
    assert first_long_sentence[0].endswith(",")


def test_segments_without_words_are_spread_over_their_time():
    only = TranscriptSegment(10.0, 14.0, "A short line of text without word timings.", 0.5, [])
    cues = build_cues([only])
    assert cues[0].start == 10.0 and cues[-1].end == 14.0
    assert " ".join(c.text.replace("\n", " ") for c in cues) == only.text


def test_srt_round_trips_through_the_srt_parser(tmp_path):
    transcript = lecture()
    cues = build_cues(transcript.segments)
    path = write_srt(cues, tmp_path / "full.srt")
    parsed = list(srt.parse(path.read_text(encoding="utf-8")))
    assert [p.index for p in parsed] == list(range(1, len(cues) + 1))
    for cue, sub in zip(cues, parsed, strict=True):
        assert sub.content == cue.text
        assert sub.start.total_seconds() == pytest.approx(cue.start, abs=1e-3)
        assert sub.end.total_seconds() == pytest.approx(cue.end, abs=1e-3)
    assert transcript_to_srt(transcript) == path.read_text(encoding="utf-8")


VTT_TIME = r"\d{2}:\d{2}:\d{2}\.\d{3}"


def test_vtt_has_header_dot_milliseconds_and_the_same_cues(tmp_path):
    transcript = lecture()
    text = transcript_to_vtt(transcript)
    assert text.startswith("WEBVTT\n\n")
    blocks = text.strip().split("\n\n")[1:]
    cues = build_cues(transcript.segments)
    assert len(blocks) == len(cues)
    for block, cue in zip(blocks, cues, strict=True):
        timing, *lines = block.split("\n")
        assert re.fullmatch(rf"{VTT_TIME} --> {VTT_TIME}", timing)
        assert "\n".join(lines) == cue.text
        h, m, s = timing.split(" --> ")[0].split(":")
        assert int(h) * 3600 + int(m) * 60 + float(s) == pytest.approx(cue.start, abs=1e-3)
    assert "," not in re.findall(rf"{VTT_TIME}", text)[0]
    written = write_vtt(cues, tmp_path / "full.vtt").read_text(encoding="utf-8")
    assert written == text


def test_vtt_escapes_markup_and_handles_hours():
    cue = Cue(3723.5, 3725.25, "x < y & y > z")
    text = cues_to_vtt([cue])
    assert "01:02:03.500 --> 01:02:05.250" in text
    assert "x &lt; y &amp; y &gt; z" in text


def test_span_cues_are_rebased_and_clipped_to_the_clip():
    transcript = lecture()
    start, end = 29.5, 45.0
    cues = cues_for_span(transcript, start, end)
    assert cues, "the span holds two sentences"
    assert cues[0].text.startswith("The Fibonacci")
    assert cues[0].start == pytest.approx(0.5, abs=1e-3)
    assert all(0.0 <= c.start < c.end <= end - start for c in cues)
    said = " ".join(c.text.replace("\n", " ") for c in cues).split()
    words = [w for s in transcript.segments for w in s.words]
    expected = [w.text for w in words if start <= (w.start + w.end) / 2 <= end]
    assert said == expected
    absolute = cues_for_span(transcript, start, end, rebase=False)
    assert [round(c.start - start, 3) for c in absolute] == [c.start for c in cues]


def test_span_cutting_a_word_keeps_it_whole_and_inside():
    transcript = lecture()
    word = transcript.segments[1].words[3]  # "drop"
    start = (word.start + word.end) / 2 - 0.01  # the word is mostly inside the span
    cues = cues_for_span(transcript, start, 36.0)
    assert cues[0].text.split()[0] == word.text
    assert cues[0].start == 0.0
    assert all(c.end <= 36.0 - start + 1e-9 for c in cues)


def test_span_without_speech_has_no_cues_and_empty_span_is_refused():
    transcript = lecture()
    assert cues_for_span(transcript, 48.0, 54.0) == []
    with pytest.raises(ValueError, match="empty span"):
        cues_for_span(transcript, 10.0, 10.0)


def test_a_sentence_tail_is_not_left_alone_in_a_cue() -> None:
    from highlights.subtitles import MAX_CUE_SECONDS, build_cues
    from highlights.types import TranscriptSegment, Word

    # A slow speaker: the cue fills its time limit one word before the sentence ends,
    # which would leave "it." flashing alone.
    text = "Newton's first law says an object keeps its velocity unless a force acts on it."
    tokens = text.split()
    step = (MAX_CUE_SECONDS + 0.2) / (len(tokens) - 1)
    words = [Word(i * step, i * step + step - 0.05, token) for i, token in enumerate(tokens)]
    cues = build_cues([TranscriptSegment(0.0, words[-1].end, text, 0.9, words)])
    assert len(cues) == 2
    assert all(len(c.text.split()) >= 3 for c in cues), cues
    assert all(c.end - c.start <= MAX_CUE_SECONDS for c in cues)
    assert " ".join(c.text.replace("\n", " ") for c in cues) == text


def test_a_hyphenated_word_is_never_split_in_cues_or_sentences():
    """Whisper marks word starts with a space; "-loving" without one continues "water"."""
    from highlights.transcription.segments import RawSegment, finalize

    raw_words = [Word(0.0, 0.4, " Oil"), Word(0.5, 0.8, " is"), Word(0.9, 1.2, " not"),
                 Word(1.3, 1.6, " water"), Word(1.6, 2.0, "-loving"), Word(2.1, 2.3, " and"),
                 Word(2.4, 2.6, " it"), Word(2.6, 2.7, "'s"), Word(2.8, 3.2, " greasy.")]
    raw = RawSegment(start=0.0, end=3.3, text=" Oil is not water-loving and it's greasy.",
                     avg_logprob=-0.2, no_speech_prob=0.01, words=raw_words)
    (segment,), dropped = finalize([raw], [])
    assert not dropped
    assert [w.text for w in segment.words] == ["Oil", "is", "not", "water-loving", "and", "it's", "greasy."]
    assert segment.words[3].start == 1.3 and segment.words[3].end == 2.0
    cues = build_cues([segment])
    assert "water-loving" in " ".join(c.text.replace("\n", " ") for c in cues)
    assert "water -loving" not in " ".join(c.text for c in cues)
