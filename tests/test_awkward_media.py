"""Every awkward real file goes through probe, audio, visual, silence and layout.

Each gives a sensible result or a clear one-line MediaError, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from highlights.audio import AudioInfo, extract_audio
from highlights.layout import analyze_layout
from highlights.probe import MediaError, probe_media
from highlights.silence import detect_silence
from highlights.types import LayoutResult, MediaProbe, Region, SilenceResult
from highlights.visual import VisualSamples, visual_pass
from tests.media_samples import SHARED_MEDIA, ffmpeg, scratch_dir, tone_file

SHARED = (
    sorted(p.name for p in SHARED_MEDIA.iterdir() if p.is_file()) if SHARED_MEDIA.is_dir() else []
)


@dataclass
class Chain:
    probe: MediaProbe
    audio: AudioInfo | None
    visual: VisualSamples | None
    silence: SilenceResult
    layout: LayoutResult
    changes: list[float]


def run_chain(path: Path, work: Path) -> Chain:
    """The pipeline's order: ingest (probe, audio, visual), then silence and layout."""
    probe = probe_media(path)
    audio = extract_audio(path, work / "audio.wav")
    visual = visual_pass(path, work / "visual")
    silence = detect_silence(audio.path if audio else None, visual, min_duration=2.0)
    layout, changes = analyze_layout(visual)
    return Chain(probe, audio, visual, silence, layout, changes)


def _inside_unit(region: Region) -> bool:
    return (
        0 <= region.x <= 1
        and 0 <= region.y <= 1
        and region.x + region.width <= 1.0001
        and region.y + region.height <= 1.0001
    )


def check_sensible(chain: Chain) -> None:
    p = chain.probe
    assert p.duration > 0 and p.content_type.split("/")[0] in ("video", "audio")
    assert (chain.audio is not None) == p.has_audio
    assert (chain.visual is not None) == p.has_video
    if chain.audio is not None:
        assert chain.audio.duration == pytest.approx(p.duration, abs=0.5)
    if chain.visual is not None:
        assert chain.visual.count == pytest.approx(p.duration * 2, abs=2)
    for r in chain.silence.regions:
        assert 0 <= r.start < r.end <= p.duration + 0.2
        assert r.duration >= 2.0 - 1e-6
    lay = chain.layout
    assert _inside_unit(lay.screen_region) and _inside_unit(lay.camera_region)
    assert 0.0 <= lay.confidence_score <= 1.0 and 0.0 <= lay.split_ratio <= 1.0
    assert lay.layout_type in (
        "side_by_side",
        "picture_in_picture",
        "full_screen",
        "split_vertical",
        "custom",
    )
    assert all(0 <= t <= p.duration for t in chain.changes)


@pytest.mark.parametrize("name", SHARED)
def test_shared_media_file(name):
    chain = run_chain(SHARED_MEDIA / name, scratch_dir(f"awkward-{name}"))
    check_sensible(chain)


def _shared(name: str) -> Chain:
    if name not in SHARED:
        pytest.skip(f"{name} not in {SHARED_MEDIA}")
    return run_chain(SHARED_MEDIA / name, scratch_dir(f"awkward-{name}"))


def test_audio_only_files():
    for name, content_type in (("aac.m4a", "audio/mp4"), ("mono.mp3", "audio/mpeg")):
        chain = _shared(name)
        assert chain.probe.content_type == content_type and not chain.probe.has_video
        assert chain.visual is None
        assert any("no video" in n for n in chain.silence.notes)
        assert chain.layout.layout_type == "full_screen" and chain.layout.confidence_score == 0.0
        assert chain.changes == []


def test_hevc_422_and_mkv_decode():
    hevc = _shared("testsrc-hevc.mp4")
    assert hevc.probe.video_codec == "hevc" and hevc.visual.count >= 4
    yuv422 = _shared("test_yuv422p.mp4")
    assert yuv422.probe.extra["pix_fmt"] == "yuv422p" and yuv422.visual.count >= 4
    mkv = _shared("testsrc.mkv")
    assert mkv.probe.content_type == "video/x-matroska" and mkv.visual.count >= 4


def test_non_square_pixels():
    chain = _shared("SAR-2by3.mp4")
    assert chain.probe.pixel_aspect == "2:3"
    assert chain.visual.width / chain.visual.height == pytest.approx(640 * 2 / 3 / 360, abs=0.02)


def test_green_screen_shot_is_a_camera_without_slides():
    chain = _shared("man-on-green-screen.mp4")
    # a man walking in front of a backdrop: the whole picture is the camera
    assert chain.layout.layout_type == "full_screen"
    assert chain.layout.camera_region == Region.full() and chain.layout.screen_region.is_empty
    assert chain.changes == []
    # its soundtrack is digital silence: one silence over the whole file
    audio = [r for r in chain.silence.regions if r.silence_type == "audio_silence"]
    assert len(audio) == 1 and audio[0].duration >= chain.probe.duration - 0.5


def test_real_talk_pause_is_found():
    chain = _shared("example.mp4")
    audio = [r for r in chain.silence.regions if r.silence_type == "audio_silence"]
    # the talk stops at about 17 s and resumes at about 40 s
    assert len(audio) == 1
    assert audio[0].start == pytest.approx(17.2, abs=0.5) and audio[0].end == pytest.approx(
        40.0, abs=0.5
    )
    # the picture is a flat colour with a running timecode: no camera, no slides
    assert chain.layout.layout_type == "full_screen" and chain.layout.camera_region.is_empty


def test_video_without_audio(tmp_path):
    path = tone_file(tmp_path / "silent.mp4", seconds=4.0, extra=("-an", "-c:v", "libx264"))
    chain = run_chain(path, tmp_path / "work")
    check_sensible(chain)
    assert chain.audio is None
    assert any("no audio" in n for n in chain.silence.notes)


def test_audio_with_cover_art(tmp_path):
    # an MP3 with an embedded picture: the picture is not a video stream
    cover = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-frames:v", "1", str(cover))
    mp3 = tmp_path / "talk.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=200:duration=4", "-i", str(cover), "-map", "0:a", "-map", "1:v",
           "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic", str(mp3))  # fmt: skip
    chain = run_chain(mp3, tmp_path / "work")
    check_sensible(chain)
    assert not chain.probe.has_video and chain.visual is None


@pytest.mark.parametrize("damage", ["empty", "text", "half", "garbage"])
def test_broken_files_fail_with_one_line_media_error(tmp_path, damage):
    good = tone_file(tmp_path / "good.mp4", seconds=4.0, extra=("-c:v", "libx264", "-c:a", "aac"))
    data = good.read_bytes()
    bad = tmp_path / f"{damage}.mp4"
    bad.write_bytes(
        {
            "empty": b"",
            "text": b"<html>404 not found</html>\n" * 20,
            "half": data[: len(data) // 2],
            "garbage": bytes((i * 31) % 256 for i in range(50_000)),
        }[damage]
    )
    with pytest.raises(MediaError) as info:
        run_chain(bad, tmp_path / "work")
    assert "\n" not in str(info.value) and bad.name in str(info.value)
    assert info.value.permanent
