"""probe_media on real files: facts from the bytes, and a clear MediaError for bad input."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from highlights.ffmpeg import ffmpeg_exe
from highlights.probe import MediaError, probe_media
from tests.media_samples import LECTURES, SHARED_MEDIA, ffmpeg, lecture_names, tone_file


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small file per container, made by the real ffmpeg."""
    d = tmp_path_factory.mktemp("probe")
    files = {
        "mp4": tone_file(d / "a.mp4", extra=("-c:v", "libx264", "-c:a", "aac")),
        "mov": tone_file(d / "a.mov", extra=("-c:v", "libx264", "-c:a", "aac")),
        "mkv": tone_file(d / "a.mkv", extra=("-c:v", "libx264", "-c:a", "aac")),
        "webm": tone_file(
            d / "a.webm",
            seconds=1.0,
            extra=("-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus"),
        ),
        "video_only": tone_file(d / "silent.mp4", extra=("-an", "-c:v", "libx264")),
        "faststart": tone_file(
            d / "fast.mp4",
            seconds=6.0,
            extra=("-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"),
        ),
    }
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=2", "-c:a", "aac", str(d / "a.m4a"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=2", str(d / "a.wav"))
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:duration=2", "-c:a", "libmp3lame", str(d / "a.mp3")
    )
    files.update({"m4a": d / "a.m4a", "wav": d / "a.wav", "mp3": d / "a.mp3"})
    return files


@pytest.mark.parametrize(
    ("kind", "content_type", "container"),
    [
        ("mp4", "video/mp4", "mp4"),
        ("mov", "video/quicktime", "quicktime"),
        ("mkv", "video/x-matroska", "matroska"),
        ("webm", "video/webm", "webm"),
        ("m4a", "audio/mp4", "mp4"),
        ("mp3", "audio/mpeg", "mp3"),
        ("wav", "audio/wav", "wav"),
    ],
)
def test_content_type_per_container(media, kind, content_type, container):
    probe = probe_media(media[kind])
    assert probe.content_type == content_type
    assert probe.container == container
    assert probe.has_audio


def test_content_type_comes_from_bytes_not_name(media, tmp_path):
    disguised = tmp_path / "lecture.mp3"  # an MKV video named like an MP3
    shutil.copy(media["mkv"], disguised)
    nameless = tmp_path / "upload"
    shutil.copy(media["mov"], nameless)
    assert probe_media(disguised).content_type == "video/x-matroska"
    assert probe_media(nameless).content_type == "video/quicktime"


def test_stream_facts(media):
    probe = probe_media(media["mp4"])
    assert probe.has_video and probe.has_audio
    assert (probe.width, probe.height) == (320, 240)
    assert probe.fps == pytest.approx(25.0)
    assert probe.video_codec == "h264" and probe.audio_codec == "aac"
    assert probe.sample_rate == 44100 and probe.channels == 1
    assert probe.pixel_aspect == "1:1"
    assert probe.duration == pytest.approx(3.0, abs=0.1)

    silent = probe_media(media["video_only"])
    assert silent.has_video and not silent.has_audio and silent.audio_codec is None
    audio = probe_media(media["m4a"])
    assert audio.has_audio and not audio.has_video and audio.width is None


@pytest.mark.parametrize("name", lecture_names())
def test_fixture_lectures_match_their_ground_truth(name):
    import json

    truth = json.loads((LECTURES / f"{name}.json").read_text())
    probe = probe_media(LECTURES / f"{name}.mp4")
    assert probe.content_type == "video/mp4"
    assert (probe.width, probe.height) == (truth["width"], truth["height"])
    assert probe.fps == pytest.approx(truth["fps"])
    assert probe.duration == pytest.approx(truth["duration"], abs=0.1)


def test_non_square_pixels_reported():
    probe = probe_media(SHARED_MEDIA / "SAR-2by3.mp4")
    assert probe.pixel_aspect == "2:3"
    assert probe.extra["display_aspect"] == pytest.approx(640 * 2 / 3 / 360, abs=0.01)


def _expect_media_error(path: Path, *words: str) -> MediaError:
    with pytest.raises(MediaError) as info:
        probe_media(path)
    message = str(info.value)
    assert "\n" not in message and path.name in message
    for word in words:
        assert word in message.lower()
    return info.value


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    err = _expect_media_error(path, "empty")
    assert err.permanent


def test_not_a_media_file(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("these are my lecture notes, not a video\n" * 50)
    _expect_media_error(text, "not a recognised")
    noise = tmp_path / "noise.mkv"
    noise.write_bytes(bytes(range(256)) * 400)
    assert _expect_media_error(noise, "not a recognised").permanent


def test_mp4_cut_in_half_without_index(media, tmp_path):
    # ffmpeg writes the index (moov) at the end by default: half a file has none
    data = media["mp4"].read_bytes()
    cut = tmp_path / "half.mp4"
    cut.write_bytes(data[: len(data) // 2])
    _expect_media_error(cut, "truncated")


def test_faststart_mp4_cut_in_half(media, tmp_path):
    # the index is at the front, so the file opens; the media it promises is missing
    data = media["faststart"].read_bytes()
    cut = tmp_path / "fast-half.mp4"
    cut.write_bytes(data[: len(data) // 2])
    _expect_media_error(cut, "truncated")


def test_corrupt_start_of_media(media, tmp_path):
    data = bytearray(media["video_only"].read_bytes())
    mdat = data.find(b"mdat")
    assert mdat > 0
    # overwrite the first frames' data (keep the index) with garbage
    for i in range(mdat + 8, min(len(data) - 1, mdat + 8 + 6000)):
        data[i] = (i * 7919) % 251
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    _expect_media_error(broken, "does not decode")


def test_no_audio_or_video_stream(tmp_path):
    srt = tmp_path / "subs.srt"
    srt.write_text(
        "1\n00:00:00,000 --> 00:00:02,000\nhello\n\n2\n00:00:03,000 --> 00:00:05,000\nbye\n"
    )
    only_subs = tmp_path / "subtitles.mkv"
    ffmpeg("-i", str(srt), "-c:s", "srt", str(only_subs))
    _expect_media_error(only_subs, "no audio or video")


def test_zero_duration(tmp_path):
    # Matroska written to a pipe has no duration in its header; keep the headers and the
    # start of the first cluster but no media packets: a stream that lasts nothing
    piped = tmp_path / "piped.mka"
    proc = subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:a",
            "aac",
            "-f",
            "matroska",
            "-",
        ],
        capture_output=True,
        check=True,
    )
    piped.write_bytes(proc.stdout)
    assert probe_media(piped).duration == pytest.approx(2.0, abs=0.05)  # scanned from packets
    cluster = proc.stdout.find(bytes([0x1F, 0x43, 0xB6, 0x75]))
    assert cluster > 0
    empty = tmp_path / "no-packets.mka"
    empty.write_bytes(proc.stdout[: cluster + 40])
    assert _expect_media_error(empty, "zero or unknown duration").permanent


def test_missing_file_is_not_permanent(tmp_path):
    err = _expect_media_error(tmp_path / "gone.mp4", "not found")
    assert not err.permanent
