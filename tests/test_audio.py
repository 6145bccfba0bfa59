"""extract_audio / load_audio on real encoded files: rate, timing, gaps, memory."""

from __future__ import annotations

import json
import subprocess
import sys
import wave

import numpy as np
import pytest

from highlights.audio import TARGET_RATE, extract_audio, open_pcm16
from highlights.probe import MediaError
from tests.media_samples import (
    SHARED_MEDIA,
    analysed_lecture,
    ffmpeg,
    lecture_names,
    load_audio,
    tone_file,
)


def _rms_dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)) + 1e-12))


@pytest.mark.parametrize("name", lecture_names())
def test_fixture_lecture_audio(name):
    lecture = analysed_lecture(name)
    info = lecture.audio
    assert info is not None
    assert info.sample_rate == TARGET_RATE
    assert info.duration == pytest.approx(lecture.truth["duration"], abs=0.1)
    with wave.open(info.path) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, TARGET_RATE)
    samples = load_audio(info.path)
    assert samples.dtype == np.float32 and np.abs(samples).max() <= 1.0
    # the levels the generator mixed at survive decoding: speech and the room floor
    speech = lecture.truth["speech"][len(lecture.truth["speech"]) // 2]
    s0, s1 = int(speech["start"] * TARGET_RATE), int(speech["end"] * TARGET_RATE)
    assert _rms_dbfs(samples[s0:s1]) == pytest.approx(lecture.truth["speech_rms_dbfs"], abs=4)
    pause = max(lecture.truth["pauses"], key=lambda p: p["end"] - p["start"])
    p0, p1 = int((pause["start"] + 0.3) * TARGET_RATE), int((pause["end"] - 0.3) * TARGET_RATE)
    assert _rms_dbfs(samples[p0:p1]) == pytest.approx(lecture.truth["noise_floor_dbfs"], abs=3)


def test_no_audio_stream_returns_none(tmp_path):
    video = tone_file(tmp_path / "silent.mp4", extra=("-an", "-c:v", "libx264"))
    assert extract_audio(video, tmp_path / "out.wav") is None
    assert not (tmp_path / "out.wav").exists()


def _onsets(x: np.ndarray, rate: int, level: float = 0.02) -> list[float]:
    """Times where a tone switches on (10 ms resolution)."""
    hop = rate // 100
    env = np.abs(x[: x.size // hop * hop]).reshape(-1, hop).max(axis=1) > level
    return [i / 100 for i in np.flatnonzero(np.diff(env.astype(int)) == 1) + 1]


@pytest.mark.parametrize("container", ["mka", "mp4"])
def test_gaps_in_timestamps_are_filled_not_collapsed(tmp_path, container):
    # 8 s of beeps (one every second, 0.2 s long); every packet from 3 s on is stamped
    # 2 s later, leaving a 2 s hole: counted samples would put the 4 s beep at 4 s,
    # timestamps put it at 6 s where a player plays it
    src = tmp_path / f"gap.{container}"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:duration=8",
        "-af", "volume='if(lt(mod(t,1),0.2),1,0)':eval=frame,asetpts='if(gte(T,3),PTS+2/TB,PTS)'",
        "-c:a", "aac", str(src),
    )  # fmt: skip
    info = extract_audio(src, tmp_path / "gap.wav")
    assert info is not None
    assert info.duration == pytest.approx(10.0, abs=0.05)
    assert info.gaps_filled_seconds == pytest.approx(2.0, abs=0.05)
    x = load_audio(info.path)
    onsets = _onsets(x, TARGET_RATE)
    expected = [1, 2, 5, 6, 7, 8, 9]  # 0 has no onset edge; beeps 3..7 moved by 2 s
    assert len(onsets) == len(expected)
    assert np.allclose(onsets, expected, atol=0.04)
    hole = x[int(3.3 * TARGET_RATE) : int(4.9 * TARGET_RATE)]
    assert np.abs(hole).max() == 0.0  # filled with digital silence


def test_stereo_is_downmixed_and_resampled(tmp_path):
    src = tmp_path / "stereo.m4a"
    # left 440 Hz, right 1 kHz at 44.1 kHz: both must be present in the mono mix
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100:duration=2",
        "-filter_complex", "[0][1]amerge=inputs=2", "-c:a", "aac", "-b:a", "128k", str(src),
    )  # fmt: skip
    info = extract_audio(src, tmp_path / "stereo.wav")
    assert info is not None and info.source_channels == 2 and info.source_sample_rate == 44100
    x = load_audio(info.path)[TARGET_RATE // 2 : TARGET_RATE * 3 // 2]
    spectrum = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(x.size, 1 / TARGET_RATE)
    peaks = sorted(freqs[np.argsort(spectrum)[-2:]])
    assert peaks == pytest.approx([440, 1000], abs=2)


def test_mp3_with_encoder_delay(tmp_path):
    info = extract_audio(SHARED_MEDIA / "mono.mp3", tmp_path / "mono.wav")
    assert info is not None
    assert info.duration == pytest.approx(6.63, abs=0.1)
    assert info.source_codec.startswith("mp3") and info.source_channels == 1
    assert _rms_dbfs(load_audio(info.path)) > -40  # a real talk, not silence


def test_open_pcm16_reads_lazily_and_load_audio_scales(tmp_path):
    src = tmp_path / "tone.wav"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=1", "-ac", "1", str(src)
    )
    samples, rate = open_pcm16(src)
    assert rate == 16000 and samples.dtype == np.int16 and len(samples) == 16000
    with wave.open(str(src)) as wav:
        expected = np.frombuffer(wav.readframes(16000), dtype="<i2")
    assert np.array_equal(samples[:], expected)
    assert np.array_equal(samples[100:228], expected[100:228])
    x = load_audio(src)
    assert np.allclose(x, expected.astype(np.float32) / 32768.0)


def test_open_pcm16_downmixes_stereo(tmp_path):
    src = tmp_path / "stereo.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=1",
           "-af", "pan=stereo|c0=c0|c1=-0.5*c0", str(src))  # fmt: skip
    samples, _ = open_pcm16(src)
    with wave.open(str(src)) as wav:
        both = np.frombuffer(wav.readframes(16000), dtype="<i2").reshape(-1, 2)
    assert np.abs(samples[:].astype(int) - both.mean(axis=1)).max() <= 1


def test_load_audio_rejects_other_files(tmp_path):
    bogus = tmp_path / "x.wav"
    bogus.write_bytes(b"not a wav at all")
    with pytest.raises(MediaError, match="not a WAV"):
        load_audio(bogus)


_MEMORY_PROBE = """
import json, resource, sys
from highlights.audio import extract_audio
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
info = extract_audio(sys.argv[1], sys.argv[2])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kb": before, "after_kb": after, "duration": info.duration}))
"""


def test_memory_stays_flat_on_long_audio(tmp_path):
    # 25 minutes: as float32 in memory this would be 96 MB, as int16 48 MB
    src = tmp_path / "long.m4a"
    ffmpeg(
        "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.1:sample_rate=16000:duration=1500",
        "-c:a", "aac", "-b:a", "32k", str(src),
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(src), str(tmp_path / "long.wav")],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["duration"] == pytest.approx(1500, abs=1)
    grown_mb = (figures["after_kb"] - figures["before_kb"]) / 1024
    assert grown_mb < 30, f"extraction grew peak memory by {grown_mb:.0f} MB"
