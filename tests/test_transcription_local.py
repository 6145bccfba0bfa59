"""Local faster-whisper transcription on a generated lecture narration (CPU, offline).

One fixture lecture (the shortest, ~2 minutes) is transcribed once per module; the
word error rate and the word timings are checked against its ground truth.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import wave
from pathlib import Path

import jiwer
import numpy as np
import pytest

from highlights.audio import extract_audio
from highlights.low_priority import critical_work_done
from highlights.settings import load_settings
from highlights.transcription import TranscriptionError, get_transcriber
from highlights.transcription.local import LocalWhisperTranscriber
from highlights.transcription.model_store import bundled_base_model, resolve_model
from highlights.transcription.segments import RawSegment, finalize
from highlights.types import SilenceRegion, Word
from tests.media_samples import SHARED_MEDIA

LECTURES = Path(__file__).parent / "fixtures" / "lectures"


def shortest_lecture() -> Path:
    found = sorted(LECTURES.glob("*.json"), key=lambda p: json.loads(p.read_text())["duration"])
    if not found:
        pytest.fail(f"no generated lectures in {LECTURES}: run the synth generator")
    return found[0]


def normalise(text: str) -> str:
    text = text.lower().replace("-", "").replace("’", "'")
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


@pytest.fixture(scope="module")
def narration(tmp_path_factory):
    truth_path = shortest_lecture()
    truth = json.loads(truth_path.read_text())
    wav = tmp_path_factory.mktemp("local") / "audio.wav"
    extract_audio(truth_path.with_suffix(".mp4"), wav)
    shares: list[float] = []
    transcriber = get_transcriber(load_settings({"HIGHLIGHTS_TRANSCRIBER": "local"}))
    started = time.monotonic()
    transcript = transcriber.transcribe(str(wav), progress=shares.append)
    elapsed = time.monotonic() - started
    return truth, wav, transcript, shares, elapsed


def test_transcript_matches_the_narration(narration):
    truth, _wav, transcript, _shares, _elapsed = narration
    hypothesis = " ".join(s.text for s in transcript.segments)
    error_rate = jiwer.wer(normalise(truth["transcript"]), normalise(hypothesis))
    assert error_rate <= 0.15, f"WER {error_rate:.1%}: {hypothesis}"
    assert transcript.provider == "faster-whisper" and transcript.model == "base"
    assert transcript.language == "en"
    assert all(0.0 < s.confidence <= 1.0 for s in transcript.segments)


def test_word_timings_are_monotonic_inside_segments_and_on_the_speech(narration):
    truth, _wav, transcript, _shares, _elapsed = narration
    words = transcript.words
    assert len(words) >= 0.85 * len(truth["transcript"].split())
    previous = 0.0
    for segment in transcript.segments:
        assert previous <= segment.start <= segment.end <= truth["duration"] + 0.05
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
            assert word.start >= previous
            previous = word.end
        previous = segment.end
    spoken = [(s["start"] - 0.5, s["end"] + 0.5) for s in truth["speech"]]
    on_speech = [any(a <= (w.start + w.end) / 2 <= b for a, b in spoken) for w in words]
    assert np.mean(on_speech) >= 0.95
    # every sentence is heard near its true time: its words start within a second of it
    for sentence in truth["speech"]:
        near = [w for w in words if sentence["start"] - 1.0 <= w.start <= sentence["end"]]
        assert near, f"nothing transcribed at {sentence['start']:.1f}s: {sentence['text']}"


def test_progress_rises_to_one(narration):
    _truth, _wav, transcript, shares, _elapsed = narration
    assert len(shares) >= len(transcript.segments) // 2
    assert shares == sorted(shares) and shares[-1] == 1.0 and 0 < shares[0] < 1


def test_long_input_in_windows_keeps_one_timeline(narration):
    truth, wav, whole, _shares, _elapsed = narration
    limit = 60.0  # transcribe only the first minute, in windows of at most 25 s
    transcriber = LocalWhisperTranscriber("base", window_seconds=25.0)
    windowed = transcriber.transcribe(str(wav), duration=limit)
    assert windowed.metadata["windows"] >= 3
    assert windowed.segments[-1].end <= limit
    reference = " ".join(s["text"] for s in truth["speech"] if s["end"] <= limit - 0.5)
    got = " ".join(s.text for s in windowed.segments)
    assert jiwer.wer(normalise(reference), normalise(got)) <= 0.2
    starts = [w.start for w in windowed.words]
    assert starts == sorted(starts)
    # later windows are moved onto the recording's timeline: every sentence is heard
    # at its true time, as in the one-window run
    for sentence in truth["speech"]:
        if sentence["end"] <= limit - 0.5:
            assert any(
                sentence["start"] - 1.0 <= w.start <= sentence["end"] for w in windowed.words
            )
    for segment in windowed.segments:
        assert min(abs(segment.start - s.start) for s in whole.segments) <= 1.0


def test_bundled_model_is_assembled_once_and_repaired_when_damaged(tmp_path):
    folder = bundled_base_model(root=tmp_path)
    model = folder / "model.bin"
    assert {p.name for p in folder.iterdir()} == {
        "model.bin", "config.json", "tokenizer.json", "vocabulary.txt"
    }  # fmt: skip
    size, mtime = model.stat().st_size, model.stat().st_mtime_ns
    assert size == 145_217_532  # Systran/faster-whisper-base model.bin
    assert bundled_base_model(root=tmp_path) == folder
    assert model.stat().st_mtime_ns == mtime, "a complete model is reused, not rebuilt"
    with model.open("r+b") as fh:  # an interrupted copy from an older version
        fh.truncate(1000)
    bundled_base_model(root=tmp_path)
    assert model.stat().st_size == size
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging left"


def test_missing_model_folder_is_a_permanent_error_naming_the_setting(tmp_path):
    with pytest.raises(TranscriptionError, match="HIGHLIGHTS_WHISPER_MODEL") as caught:
        resolve_model(str(tmp_path / "no-such-model"))
    assert not caught.value.transient


def test_uncached_model_size_fails_fast_without_the_hub(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(TranscriptionError, match="'small' is not in the local model cache"):
        resolve_model("small")
    assert time.monotonic() - started < 5.0


def test_bad_audio_input_is_refused_with_a_clear_message(tmp_path):
    transcriber = LocalWhisperTranscriber()
    with pytest.raises(TranscriptionError, match="not found"):
        transcriber.transcribe(str(tmp_path / "missing.wav"))
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(TranscriptionError, match="cannot read audio") as caught:
        transcriber.transcribe(str(text))
    assert not caught.value.transient
    loud = tmp_path / "44k.wav"
    with wave.open(str(loud), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(np.zeros(44100, dtype="<i2").tobytes())
    with pytest.raises(TranscriptionError, match="expects the 16 kHz"):
        transcriber.transcribe(str(loud))


def test_silent_recording_gives_an_empty_transcript(tmp_path):
    quiet = tmp_path / "quiet.wav"
    rng = np.random.default_rng(0)
    room = (rng.standard_normal(16000 * 8) * 30).astype("<i2")  # ~ -60 dBFS room tone
    with wave.open(str(quiet), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(room.tobytes())
    transcript = LocalWhisperTranscriber().transcribe(str(quiet))
    assert transcript.segments == []


def test_cpu_threads_default_to_the_cores():
    assert LocalWhisperTranscriber().cpu_threads == os.cpu_count()


def test_real_talk_with_a_long_pause_keeps_the_words_on_both_sides(tmp_path):
    # A real recording: "...I will say banana" at ~16 s, 23 s of silence, "Banana." at
    # ~40 s. With VAD, faster-whisper returns one segment spanning the silence; it must
    # be split at the gap, not dropped as text invented in silence.
    wav = tmp_path / "example.wav"
    extract_audio(SHARED_MEDIA / "example.mp4", wav)
    transcript = LocalWhisperTranscriber().transcribe(str(wav))
    bananas = [w for w in transcript.words if normalise(w.text) == "banana"]
    assert len(bananas) == 2
    assert bananas[0].end < 20.0 and 38.0 < bananas[1].start < 41.0
    assert not any(s.start < 30.0 < s.end for s in transcript.segments), (
        "no segment spans the pause"
    )
    assert transcript.metadata["dropped_segments"] == []


def test_segment_cleanup_splits_at_gaps_and_drops_words_in_pauses():
    pause = [SilenceRegion(10.0, 30.0, "audio_silence")]
    real = RawSegment(
        8.0, 32.0, " Said before. And after.", -0.2, 0.1,
        [Word(8.2, 8.6, " Said", 0.9), Word(8.7, 9.5, " before.", 0.9),
         Word(30.5, 30.9, " And", 0.8), Word(31.0, 31.8, " after.", 0.8)],
    )  # fmt: skip
    invented = RawSegment(
        12.0, 20.0, " Thank you for watching.", -0.3, 0.2,
        [Word(12.0, 13.0, " Thank"), Word(14.0, 15.0, " you"), Word(16.0, 17.0, " for"),
         Word(18.0, 19.0, " watching.")],
    )  # fmt: skip
    kept, dropped = finalize([invented, real], pause)
    assert [(s.start, s.end, s.text) for s in kept] == [
        (8.0, 9.5, "Said before."),
        (30.5, 32.0, "And after."),
    ]
    assert kept[0].confidence == pytest.approx(0.9) and kept[1].confidence == pytest.approx(0.8)
    assert [(d.text, d.reason) for d in dropped] == [("Thank you for watching.", "in_silence")]
    # no words: judged by the span; Whisper's own no-speech rule applies as well
    wordless = RawSegment(11.0, 29.0, " Music.", -0.2, 0.1)
    quiet = RawSegment(40.0, 42.0, " Hmm.", -1.5, 0.8)
    fine = RawSegment(45.0, 47.0, " Fine.", -0.1, 0.1)
    kept, dropped = finalize([wordless, quiet, fine], pause)
    assert [s.text for s in kept] == ["Fine."]
    assert kept[0].confidence == pytest.approx(math.exp(-0.1), abs=1e-4)
    assert [d.reason for d in dropped] == ["in_silence", "no_speech"]


def test_decoding_is_marked_as_critical_work(narration):
    """Slide OCR takes a second core only when no transcription is decoding."""
    _truth, wav, _transcript, _shares, _elapsed = narration
    critical_seen: list[bool] = []
    LocalWhisperTranscriber("base").transcribe(
        str(wav), duration=15.0, progress=lambda _share: critical_seen.append(not critical_work_done(0))
    )
    assert critical_seen and all(critical_seen)
    assert critical_work_done(0)
