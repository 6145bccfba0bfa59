"""The OpenAI Whisper API provider, with the real `openai` SDK against a local server.

The fake server answers from the uploaded audio (tone-coded utterances, see
tests/fakes/openai_server.py), so chunk offsets, cut positions and retries are all
checked against what actually went over the wire.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from highlights.settings import load_settings
from highlights.transcription import Transcriber, TranscriptionError, get_transcriber
from highlights.transcription.openai_api import (
    API_UPLOAD_LIMIT_BYTES,
    ChunkingOptions,
    OpenAITranscriber,
    RetryPolicy,
)
from tests.fakes.openai_server import HALLUCINATION, FakeWhisperServer, write_tone_speech_wav

KEY = "sk-test-key"


def make_recording(path: Path, duration: float, *, seed: int, pause=(0.6, 2.0), talk=(1.5, 4.5)):
    """Utterances of random length separated by random pauses, as a lecturer talks."""
    rng = np.random.default_rng(seed)
    utterances, t = [], 0.8
    while True:
        length = float(rng.uniform(*talk))
        if t + length > duration - 0.8:
            break
        utterances.append((round(t, 3), round(t + length, 3)))
        t += length + float(rng.uniform(*pause))
    write_tone_speech_wav(path, utterances, duration, seed=seed)
    script = [f"sentence {i} of the lecture on topic {i % 7}" for i in range(len(utterances))]
    return utterances, script


def transcriber(server: FakeWhisperServer, **kwargs) -> OpenAITranscriber:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=3, base_delay=0.1, max_total_wait=5))
    return OpenAITranscriber(KEY, base_url=server.base_url, **kwargs)


def assert_aligned(transcript, utterances, script, tolerance=0.12):
    texts = [s.text for s in transcript.segments]
    assert texts == script, "every utterance exactly once, in order (a cut inside one splits it)"
    for segment, (start, end) in zip(transcript.segments, utterances, strict=True):
        assert abs(segment.start - start) <= tolerance, (segment, start)
        assert abs(segment.end - end) <= tolerance, (segment, end)
        assert segment.confidence == pytest.approx(np.exp(-0.2), abs=1e-3)
    previous_end = 0.0
    for segment in transcript.segments:
        assert segment.start >= previous_end and segment.end >= segment.start
        assert [w.text for w in segment.words] == segment.text.split()
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
            assert word.start >= previous_end
            previous_end = word.end
        previous_end = segment.end


def test_long_recording_is_cut_at_pauses_uploaded_concurrently_and_realigned(tmp_path):
    wav = tmp_path / "lecture.wav"
    utterances, script = make_recording(wav, 300.0, seed=1)
    shares: list[float] = []
    with FakeWhisperServer(script, api_key=KEY, latency=0.3) as server:
        options = ChunkingOptions(max_chunk_seconds=40, search_seconds=12, max_chunk_bytes=400_000)
        result = transcriber(server, chunking=options).transcribe(str(wav), progress=shares.append)
    uploads = server.successful_uploads
    assert len(uploads) >= 8 and len(uploads) == result.metadata["chunk_count"]
    assert all(u.size <= 400_000 and u.duration <= 40.05 for u in uploads)
    assert all(u.filename.endswith(".ogg") for u in uploads)
    assert uploads[0].fields["timestamp_granularities[]"] == ["segment", "word"]
    assert sum(u.duration for u in uploads) == pytest.approx(300.0, abs=0.5)
    assert 2 <= server.max_in_flight <= 4
    chunks = result.metadata["chunks"]
    for left, right in zip(chunks, chunks[1:], strict=False):
        assert left["end"] == right["start"]
        assert left["cut_in_silence"]
        assert not any(a < left["end"] < b for a, b in utterances), "cut inside an utterance"
    assert_aligned(result, utterances, script)
    assert shares == sorted(shares) and shares[-1] == 1.0 and len(shares) >= len(uploads)
    assert result.provider == "openai-whisper" and result.model == "whisper-1"
    assert result.language == "en"  # "english" from verbose_json, as ISO 639-1


def test_chunk_that_compresses_over_the_limit_is_split_at_pauses(tmp_path):
    wav = tmp_path / "lecture.wav"
    utterances, script = make_recording(wav, 120.0, seed=2)
    limit = 90_000  # a 60 s chunk of this audio is ~250 kB of Opus
    with FakeWhisperServer(script, api_key=KEY) as server:
        options = ChunkingOptions(max_chunk_seconds=60, search_seconds=15, max_chunk_bytes=limit)
        result = transcriber(server, chunking=options).transcribe(str(wav))
    assert len(server.uploads) >= 4
    assert all(u.status == 200 and u.size <= limit for u in server.uploads)
    assert_aligned(result, utterances, script)


def test_rate_limit_is_retried_after_the_servers_retry_after(tmp_path):
    wav = tmp_path / "short.wav"
    utterances, script = make_recording(wav, 20.0, seed=3)
    with FakeWhisperServer(script, api_key=KEY) as server:
        server.fail_next(429, headers={"Retry-After": "1"})
        result = transcriber(server).transcribe(str(wav))
    first, second = server.uploads
    assert (first.status, second.status) == (429, 200)
    assert second.arrived - first.arrived >= 1.0
    assert result.metadata["attempts"] == 2
    assert_aligned(result, utterances, script)


def test_repeated_server_errors_end_in_a_transient_failure_within_the_budget(tmp_path):
    wav = tmp_path / "short.wav"
    make_recording(wav, 20.0, seed=4)
    with FakeWhisperServer(api_key=KEY) as server:
        server.fail_always(500)
        retry = RetryPolicy(max_attempts=4, base_delay=0.2, max_delay=0.5, max_total_wait=3)
        started = time.monotonic()
        with pytest.raises(TranscriptionError) as caught:
            transcriber(server, retry=retry).transcribe(str(wav))
        elapsed = time.monotonic() - started
    assert caught.value.transient
    assert "500" in str(caught.value) and "after 4 attempts" in str(caught.value)
    assert len(server.uploads) == 4
    assert elapsed < 5.0


def test_retry_after_longer_than_the_budget_gives_up_at_once(tmp_path):
    wav = tmp_path / "short.wav"
    make_recording(wav, 10.0, seed=5)
    with FakeWhisperServer(api_key=KEY) as server:
        server.fail_next(429, headers={"Retry-After": "600"})
        started = time.monotonic()
        with pytest.raises(TranscriptionError, match="429") as caught:
            transcriber(server).transcribe(str(wav))
    assert caught.value.transient and time.monotonic() - started < 3.0
    assert len(server.uploads) == 1


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, None, "OPENAI_API_KEY"),
        (404, "model_not_found", "HIGHLIGHTS_OPENAI_MODEL"),
        (400, None, "bad request"),
        (429, "insufficient_quota", "quota"),
    ],
)
def test_permanent_failures_are_not_retried_and_say_what_to_fix(tmp_path, status, code, expected):
    wav = tmp_path / "short.wav"
    make_recording(wav, 10.0, seed=6)
    with FakeWhisperServer(api_key=KEY) as server:
        server.fail_next(status, code=code)
        with pytest.raises(TranscriptionError, match=expected) as caught:
            transcriber(server).transcribe(str(wav))
    assert not caught.value.transient and "permanent" in str(caught.value)
    assert len(server.uploads) == 1


def test_wrong_api_key_is_rejected_by_the_server_and_named(tmp_path):
    wav = tmp_path / "short.wav"
    make_recording(wav, 10.0, seed=7)
    with (
        FakeWhisperServer(api_key="sk-the-right-one") as server,
        pytest.raises(TranscriptionError, match=r"401.*OPENAI_API_KEY") as caught,
    ):
        OpenAITranscriber("sk-wrong", base_url=server.base_url).transcribe(str(wav))
    assert not caught.value.transient
    assert [u.status for u in server.uploads] == [401]


def test_unreachable_server_is_a_transient_failure(tmp_path):
    wav = tmp_path / "short.wav"
    make_recording(wav, 10.0, seed=8)
    with FakeWhisperServer() as server:
        base_url = server.base_url  # the port is free again once the server is gone
    retry = RetryPolicy(max_attempts=2, base_delay=0.1, max_total_wait=1)
    with pytest.raises(TranscriptionError, match="could not reach") as caught:
        OpenAITranscriber(KEY, base_url=base_url, retry=retry).transcribe(str(wav))
    assert caught.value.transient


def test_text_invented_in_silence_is_dropped(tmp_path):
    wav = tmp_path / "pauses.wav"
    # long pauses: where Whisper writes "Thank you for watching."
    utterances, script = make_recording(wav, 90.0, seed=9, pause=(3.0, 8.0))
    doubtful = script[2]
    with FakeWhisperServer(
        script, api_key=KEY, hallucinate_in_silence=2.0, no_speech_texts=[doubtful]
    ) as server:
        result = transcriber(server).transcribe(str(wav))
    texts = [s.text for s in result.segments]
    assert HALLUCINATION not in " ".join(texts)
    assert texts == [t for t in script if t != doubtful]
    dropped = result.metadata["dropped_segments"]
    reasons = {d["text"]: d["reason"] for d in dropped}
    assert reasons[doubtful] == "no_speech"
    invented = [d for d in dropped if d["text"] == HALLUCINATION]
    assert len(invented) >= len(utterances) - 2  # nearly every pause got one
    assert all(d["reason"] == "in_silence" for d in invented)
    assert (
        f"dropped {len(invented)} text Whisper produced inside pauses (hallucination)"
        in (result.metadata["notes"])
    )


def test_get_transcriber_builds_the_api_provider_from_settings(tmp_path):
    wav = tmp_path / "short.wav"
    utterances, script = make_recording(wav, 15.0, seed=10)
    with FakeWhisperServer(script, api_key=KEY, models=["whisper-large-test"]) as server:
        settings = load_settings({
            "HIGHLIGHTS_TRANSCRIBER": "openai",
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": server.base_url,
            "HIGHLIGHTS_OPENAI_MODEL": "whisper-large-test",
            "HIGHLIGHTS_WORK_DIR": str(tmp_path / "work"),
        })  # fmt: skip
        provider = get_transcriber(settings)
        result = provider.transcribe(str(wav))
    assert isinstance(provider, Transcriber)
    assert (provider.name, provider.model) == ("openai-whisper", "whisper-large-test")
    assert [s.text for s in result.segments] == script
    assert list((tmp_path / "work").iterdir()) == [], "chunk files are cleaned up"


def test_missing_key_fails_before_any_upload():
    with pytest.raises(TranscriptionError, match="OPENAI_API_KEY") as caught:
        OpenAITranscriber(None)
    assert not caught.value.transient


def test_server_without_verbose_json_is_a_permanent_error(tmp_path):
    wav = tmp_path / "short.wav"
    make_recording(wav, 10.0, seed=11)
    with (
        FakeWhisperServer(["a"], api_key=KEY, text_only=True) as server,
        pytest.raises(TranscriptionError, match="verbose_json") as caught,
    ):
        transcriber(server).transcribe(str(wav))
    assert not caught.value.transient


@pytest.mark.slow
def test_half_hour_lecture_with_default_chunking(tmp_path):
    wav = tmp_path / "lecture.wav"
    utterances, script = make_recording(wav, 31 * 60.0, seed=12, talk=(4.0, 8.0))
    assert len(utterances) < 300  # the fake tells 300 utterances apart by their tone
    with FakeWhisperServer(script, api_key=KEY) as server:
        result = transcriber(server).transcribe(str(wav))
    uploads = server.successful_uploads
    assert len(uploads) == 4  # ten-minute chunks, each cut a little early at a pause
    assert all(u.size < 4 * 2**20 < API_UPLOAD_LIMIT_BYTES for u in uploads)
    options = ChunkingOptions()  # cuts fall in the last search_seconds before the limit
    full = sorted(uploads, key=lambda u: -u.duration)[:3]
    lowest = options.max_chunk_seconds - options.search_seconds
    assert all(lowest <= u.duration <= options.max_chunk_seconds + 0.05 for u in full)
    assert_aligned(result, utterances, script)


def test_empty_audio_uploads_nothing(tmp_path):
    wav = tmp_path / "empty.wav"
    write_tone_speech_wav(wav, [], 0.0)
    with FakeWhisperServer(api_key=KEY) as server:
        result = transcriber(server).transcribe(str(wav))
    assert result.segments == [] and server.uploads == []
