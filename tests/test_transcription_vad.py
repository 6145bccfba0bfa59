"""Silero VAD in bounded batches (highlights.transcription.vad): the same speech
probabilities as faster-whisper's own call, with no ONNX run over 1,000 frames, and the
model the transcriber's VAD uses is the bounded one.

The audio is the first 100 s of the shortest generated lecture: 3,125 frames, so four
runs, the last one partial.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from faster_whisper import vad as fw_vad

from highlights.audio import extract_audio
from highlights.settings import load_settings
from highlights.transcription import get_transcriber
from highlights.transcription.vad import FRAMES_PER_RUN, bound_vad_batches
from highlights.transcription.wav import open_wav
from tests.test_transcription_local import shortest_lecture

SECONDS = 100.0


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    wav = tmp_path_factory.mktemp("vad") / "audio.wav"
    extract_audio(shortest_lecture().with_suffix(".mp4"), wav)
    return wav, open_wav(wav).read_span(0.0, SECONDS)


def upstream_model() -> fw_vad.SileroVADModel:
    """faster-whisper's model as it ships: one run of up to 10,000 frames."""
    return fw_vad.SileroVADModel(os.path.join(fw_vad.get_assets_path(), "silero_vad_v6.onnx"))


class RunSizes:
    """Wraps an ONNX session, recording how many frames each run was given."""

    def __init__(self, session):
        self.session = session
        self.sizes: list[int] = []

    def run(self, names, feeds):
        self.sizes.append(len(feeds["input"]))
        return self.session.run(names, feeds)


def test_bounded_batches_give_the_same_probabilities_in_runs_of_at_most_1000_frames(
    speech, monkeypatch
):
    _wav, samples = speech
    padded = np.pad(samples, (0, 512 - samples.shape[0] % 512))
    before = padded.copy()

    expected = upstream_model()(padded.copy())

    model = bound_vad_batches()
    assert type(model) is not fw_vad.SileroVADModel
    assert bound_vad_batches() is model  # idempotent: still the one cached instance
    sizes = RunSizes(model.session)
    monkeypatch.setattr(model, "session", sizes)
    got = model(padded)

    assert got.shape == expected.shape == (len(padded) // 512,)
    assert np.array_equal(got, expected)
    assert sizes.sizes == [1000, 1000, 1000, len(padded) // 512 - 3000]
    assert max(sizes.sizes) == FRAMES_PER_RUN
    assert np.array_equal(padded, before)  # the caller's audio is not written to


def test_speech_timestamps_are_unchanged(speech, monkeypatch):
    _wav, samples = speech
    bound_vad_batches()
    bounded = fw_vad.get_speech_timestamps(samples, fw_vad.VadOptions())
    # the same call with faster-whisper's own model in the cache's place
    monkeypatch.setattr(fw_vad, "get_vad_model", upstream_model)
    reference = fw_vad.get_speech_timestamps(samples, fw_vad.VadOptions())
    assert bounded == reference
    assert len(reference) >= 5  # a lecture's 100 s has pauses: several speech spans


def test_the_transcriber_runs_vad_in_bounded_batches(speech, monkeypatch):
    wav, _samples = speech
    fw_vad.get_vad_model.cache_clear()  # a fresh model, as in a new process
    model = fw_vad.get_vad_model()
    sizes = RunSizes(model.session)
    monkeypatch.setattr(model, "session", sizes)

    transcriber = get_transcriber(load_settings({"HIGHLIGHTS_TRANSCRIBER": "local"}))
    transcript = transcriber.transcribe(str(wav), duration=60.0)

    assert transcript.segments
    assert fw_vad.get_vad_model() is model
    assert type(model) is not fw_vad.SileroVADModel
    assert sizes.sizes and max(sizes.sizes) <= FRAMES_PER_RUN
    assert sum(sizes.sizes) >= 60.0 * 16000 / 512  # the whole minute went through it
