"""The batched decoder (faster-whisper's BatchedInferencePipeline) against the sequential
one, on the real base model: the same guarantees for word timings, the hallucination
filter and progress, and HIGHLIGHTS_WHISPER_BATCH_SIZE choosing between them.

The narration is the first minute of the shortest generated lecture, so that both
decoders together stay within a few seconds of CPU time.
"""

from __future__ import annotations

import json

import jiwer
import pytest

from highlights.audio import extract_audio
from highlights.settings import SettingsError, load_settings
from highlights.transcription import TranscriptionError, get_transcriber
from highlights.transcription.local import DEFAULT_BATCH_SIZE, LocalWhisperTranscriber
from highlights.transcription.segments import RawSegment, split_at_sentences
from highlights.types import Word
from tests.media_samples import SHARED_MEDIA
from tests.test_transcription_local import normalise, shortest_lecture

MINUTE = 60.0


def transcriber_for(batch_size: str | None) -> LocalWhisperTranscriber:
    env = {"HIGHLIGHTS_TRANSCRIBER": "local"}
    if batch_size is not None:
        env["HIGHLIGHTS_WHISPER_BATCH_SIZE"] = batch_size
    transcriber = get_transcriber(load_settings(env))
    assert isinstance(transcriber, LocalWhisperTranscriber)
    return transcriber


@pytest.fixture(scope="module")
def narration(tmp_path_factory):
    truth_path = shortest_lecture()
    truth = json.loads(truth_path.read_text())
    wav = tmp_path_factory.mktemp("batched") / "audio.wav"
    extract_audio(truth_path.with_suffix(".mp4"), wav)
    reference = " ".join(s["text"] for s in truth["speech"] if s["end"] <= MINUTE - 0.5)
    runs = {}
    for name, setting in (("batched", None), ("sequential", "0")):
        shares: list[float] = []
        transcript = transcriber_for(setting).transcribe(
            str(wav), duration=MINUTE, progress=shares.append
        )
        runs[name] = (transcript, shares)
    return reference, runs


def word_error_rate(reference: str, transcript) -> float:
    hypothesis = " ".join(s.text for s in transcript.segments)
    return jiwer.wer(normalise(reference), normalise(hypothesis))


def test_the_setting_switches_the_decoder(narration):
    _reference, runs = narration
    batched, sequential = runs["batched"][0], runs["sequential"][0]
    assert batched.metadata["decoder"] == "batched"
    assert batched.metadata["batch_size"] == DEFAULT_BATCH_SIZE
    assert sequential.metadata["decoder"] == "sequential"
    assert sequential.metadata["batch_size"] == 1
    one = transcriber_for("1")
    assert one.batch_size == 1 and not one.batched
    assert transcriber_for("16").batch_size == 16


@pytest.mark.parametrize("raw", ["-1", "eight"])
def test_a_bad_batch_size_names_the_setting(raw):
    with pytest.raises(SettingsError, match="HIGHLIGHTS_WHISPER_BATCH_SIZE"):
        load_settings({"HIGHLIGHTS_WHISPER_BATCH_SIZE": raw})


def test_batched_text_is_as_good_as_sequential(narration):
    reference, runs = narration
    batched = word_error_rate(reference, runs["batched"][0])
    sequential = word_error_rate(reference, runs["sequential"][0])
    assert batched <= max(0.15, sequential + 0.03), f"batched {batched:.1%}, seq {sequential:.1%}"


def test_batched_word_timestamps_are_ordered_and_inside_their_segments(narration):
    _reference, runs = narration
    transcript = runs["batched"][0]
    assert transcript.segments and transcript.words
    previous = 0.0
    for segment in transcript.segments:
        assert previous <= segment.start <= segment.end <= MINUTE
        assert segment.words, f"no words in {segment.text!r}"
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
            assert word.start >= previous
            previous = word.end
        previous = segment.end
    # pieces of up to 30 s come back cut into sentences, as the sequential decoder has them
    assert max(s.end - s.start for s in transcript.segments) < 15.0


def test_batched_progress_rises_monotonically_to_one(narration):
    _reference, runs = narration
    transcript, shares = runs["batched"]
    assert len(shares) >= 3, "progress is reported as segments arrive, not only at the end"
    assert shares == sorted(shares) and len(set(shares)) == len(shares)
    assert 0 < shares[0] < 1 and shares[-1] == 1.0
    assert transcript.metadata["elapsed_seconds"] > 0


def test_both_decoders_drop_the_same_hallucination(tmp_path, monkeypatch):
    # A real recording with 23 s of silence (~17-39 s). Text "decoded" inside it (as
    # Whisper invents "Thank you for watching." in long silences) is appended to what
    # each decoder yields, so it takes the same road as real segments.
    import faster_whisper

    wav = tmp_path / "example.wav"
    extract_audio(SHARED_MEDIA / "example.mp4", wav)
    invented = faster_whisper.transcribe.Segment(
        id=999, seek=0, start=24.0, end=28.0, text=" Thank you for watching.", tokens=[],
        avg_logprob=-0.3, compression_ratio=1.0, no_speech_prob=0.2, temperature=0.0,
        words=[faster_whisper.transcribe.Word(24.0 + i, 24.6 + i, w, 0.9)
               for i, w in enumerate([" Thank", " you", " for", " watching."])],
    )  # fmt: skip

    def with_invented(transcribe):
        def wrapper(self, *args, **kwargs):
            segments, info = transcribe(self, *args, **kwargs)
            return [*segments, invented], info

        return wrapper

    for cls in (faster_whisper.WhisperModel, faster_whisper.BatchedInferencePipeline):
        monkeypatch.setattr(cls, "transcribe", with_invented(cls.transcribe))
    dropped = {}
    for batch_size in (8, 0):
        transcript = LocalWhisperTranscriber(batch_size=batch_size).transcribe(str(wav))
        dropped[batch_size] = transcript.metadata["dropped_segments"]
        assert "watching" not in " ".join(s.text for s in transcript.segments).lower()
        bananas = [w for w in transcript.words if normalise(w.text) == "banana"]
        assert len(bananas) == 2, f"batch {batch_size}: the real words on both sides stay"
    assert dropped[8] == dropped[0] == [
        {"start": 24.0, "end": 28.0, "text": "Thank you for watching.", "reason": "in_silence"}
    ]


def test_sentences_are_cut_where_one_ends_and_the_next_begins():
    words = [Word(0.0, 0.4, " It"), Word(0.5, 0.9, " ends."), Word(1.0, 1.3, " Then"),
             Word(1.4, 1.8, " e.g."), Word(1.9, 2.2, " more"), Word(2.3, 2.6, " stuff?")]  # fmt: skip
    piece = RawSegment(0.0, 3.0, " It ends. Then e.g. more stuff?", -0.2, 0.1, words)
    parts = split_at_sentences(piece)
    assert [(p.start, p.end, p.text) for p in parts] == [
        (0.0, 0.9, "It ends."),
        (1.0, 3.0, "Then e.g. more stuff?"),
    ]
    assert all(p.avg_logprob == -0.2 and p.no_speech_prob == 0.1 for p in parts)
    assert split_at_sentences(RawSegment(0.0, 1.0, " No words.")) == [
        RawSegment(0.0, 1.0, " No words.")
    ]


def test_a_negative_batch_size_is_a_permanent_error():
    with pytest.raises(TranscriptionError, match="HIGHLIGHTS_WHISPER_BATCH_SIZE") as caught:
        LocalWhisperTranscriber(batch_size=-1)
    assert not caught.value.transient



def test_pieces_are_encoded_and_aligned_one_at_a_time_with_the_same_words(tmp_path):
    """The encoder and the word aligner take a batch's pieces one at a time (their
    attention weights for a whole batch were the transcriber's memory peaks); the words,
    their times and probabilities come out exactly as from the batched calls."""
    from faster_whisper import BatchedInferencePipeline
    from faster_whisper.audio import decode_audio

    from highlights.transcription.local import BATCHED_VAD, PieceByPiece, load_model
    from highlights.transcription.model_store import resolve_model

    wav = tmp_path / "audio.wav"
    extract_audio(shortest_lecture().with_suffix(".mp4"), wav)
    audio = decode_audio(str(wav))[: int(MINUTE * 16000)]
    model = load_model(resolve_model("base")[0], 2)
    pieces_per_call: dict[str, list[int]] = {"encode": [], "align": []}
    real_encode, real_align = model.encode, model.find_alignment

    def encode(features):
        pieces_per_call["encode"].append(1 if features.ndim == 2 else len(features))
        return real_encode(features)

    def find_alignment(tokenizer, text_tokens, *args, **kwargs):
        pieces_per_call["align"].append(len(text_tokens))
        return real_align(tokenizer, text_tokens, *args, **kwargs)

    model.encode, model.find_alignment = encode, find_alignment

    def words(decoder) -> tuple[list[tuple], dict[str, list[int]]]:
        for calls in pieces_per_call.values():
            calls.clear()
        segments, _ = BatchedInferencePipeline(decoder).transcribe(
            audio, language="en", batch_size=4, beam_size=5, word_timestamps=True,
            without_timestamps=True, vad_filter=True, vad_parameters=dict(BATCHED_VAD),
        )  # fmt: skip
        found = [(w.start, w.end, w.word, w.probability) for s in segments for w in s.words]
        return found, {name: list(calls) for name, calls in pieces_per_call.items()}

    together, batched_calls = words(model)
    apart, piece_calls = words(PieceByPiece(model))
    assert max(batched_calls["encode"]) >= 2 and max(batched_calls["align"]) >= 2
    assert set(piece_calls["encode"]) == {1} and set(piece_calls["align"]) == {1}
    assert len(together) > 100
    assert apart == together
