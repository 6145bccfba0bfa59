"""The visual pass on real encoded video: sampling, storage, reloading elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from highlights.probe import MediaError
from highlights.visual import VisualSamples, visual_pass
from tests.media_samples import SHARED_MEDIA, analysed_lecture, ffmpeg, lecture_names, tone_file


@pytest.mark.parametrize("name", lecture_names())
def test_samples_of_a_fixture_lecture(name):
    lecture = analysed_lecture(name)
    v = lecture.visual
    duration = lecture.truth["duration"]
    assert v.count == pytest.approx(duration * 2, abs=2)
    steps = np.diff(v.times)
    assert steps.min() > 0.3 and steps.max() < 0.7  # 2 a second, by timestamps
    assert v.times[0] < 0.1 and v.times[-1] > duration - 0.7
    assert v.duration == pytest.approx(duration, abs=0.1)
    assert (
        v.width == 256
        and v.height == round(256 * lecture.truth["height"] / lecture.truth["width"] / 2) * 2
    )
    assert v.frames.dtype == np.uint8 and isinstance(v.frames, np.memmap)
    # stats describe the stored frames
    i = v.count // 3
    assert v.luma_mean[i] == pytest.approx(float(v.frames[i].mean()), abs=0.01)
    assert v.luma_std[i] == pytest.approx(float(v.frames[i].std()), abs=0.01)
    assert v.frame_diff[i] == pytest.approx(
        float(np.abs(v.frames[i].astype(int) - v.frames[i - 1]).mean()), abs=0.01
    )
    assert v.fine_mean.shape == v.fine_activity.shape and v.fine_mean.shape[1] == 640
    assert v.fine_activity.min() >= 0.0 and v.fine_activity.max() <= 1.0


def test_blank_section_is_dark_in_the_samples():
    lecture = analysed_lecture(lecture_names()[0])
    v, blank = lecture.visual, lecture.truth["blank"]
    inside = (v.times > blank["start"] + 0.5) & (v.times < blank["end"] - 0.5)
    outside = (v.times < blank["start"] - 1) | (v.times > blank["end"] + 1)
    assert v.luma_mean[inside].max() < v.luma_mean[outside].min()


def test_keyframes_spread_over_the_video_show_the_presenter():
    from highlights.layout import find_faces
    from highlights.types import Region

    lecture = analysed_lecture("sbs" if "sbs" in lecture_names() else lecture_names()[0])
    v = lecture.visual
    assert v.keyframes.shape == (12, v.fine_mean.shape[0], v.fine_mean.shape[1])
    gaps = np.diff(v.keyframe_times)
    assert gaps.min() > 0.8 * lecture.truth["duration"] / 12 - 0.5
    camera = Region.from_dict(lecture.truth["layout"]["camera_region"])
    if camera.is_empty:
        pytest.skip("needs a fixture with a camera")
    faces = find_faces(v, camera)
    assert len({t for t, _ in faces}) >= 0.8 * 12  # blank-screen keyframes still show the face
    anywhere = find_faces(v)
    assert len(anywhere) == len(faces)  # no faces on the slides


_LOAD_ELSEWHERE = """
import json, sys
from highlights.visual import VisualSamples
v = VisualSamples.load(sys.argv[1])
print(json.dumps({"count": v.count, "sum": int(v.frames[:].astype("int64").sum()),
                  "t_last": float(v.times[-1]), "keyframes": len(v.keyframe_times)}))
"""


def test_samples_load_in_another_process():
    lecture = analysed_lecture(lecture_names()[0])
    v = lecture.visual
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_ELSEWHERE, str(v.out_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(proc.stdout)
    assert seen == {
        "count": v.count,
        "sum": int(np.asarray(v.frames).astype(np.int64).sum()),
        "t_last": float(v.times[-1]),
        "keyframes": len(v.keyframe_times),
    }


def test_load_without_a_pass_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="visual.json"):
        VisualSamples.load(tmp_path)


def test_skipping_non_reference_frames_keeps_the_samples(tmp_path):
    # B-frames are never needed at 2 samples a second: fewer frames decoded, same picture
    src = tmp_path / "bframes.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=6",
           "-c:v", "libx264", "-bf", "3", "-g", "60", str(src))  # fmt: skip
    fast = visual_pass(src, tmp_path / "fast", skip_nonref=True)
    full = visual_pass(src, tmp_path / "full", skip_nonref=False)
    assert full.meta["decoded_frames"] == 180
    assert fast.meta["decoded_frames"] < 0.7 * 180
    assert fast.count == full.count == 12
    assert np.abs(fast.times - full.times).max() <= 1 / 30 + 1e-6
    # testsrc2 moves constantly, so a frame off by one differs a little, not a lot
    diff = np.abs(np.asarray(fast.frames, dtype=int) - np.asarray(full.frames, dtype=int)).mean()
    assert diff < 8


def test_non_square_pixels_are_corrected():
    v = visual_pass(SHARED_MEDIA / "SAR-2by3.mp4", _tmp("sar"))
    display_aspect = 640 * 2 / 3 / 360
    assert v.pixel_aspect == "2:3"
    assert v.width / v.height == pytest.approx(display_aspect, abs=0.02)


def _tmp(name: str):
    from tests.media_samples import scratch_dir

    return scratch_dir(f"visual-{name}")


def test_audio_only_file_has_no_visual_samples(tmp_path):
    assert visual_pass(SHARED_MEDIA / "aac.m4a", tmp_path / "v") is None
    assert not (tmp_path / "v" / "visual.json").exists()


def test_a_rerun_replaces_an_earlier_attempt(tmp_path):
    short = tone_file(tmp_path / "short.mp4", seconds=2.0, extra=("-c:v", "libx264", "-c:a", "aac"))
    longer = tone_file(tmp_path / "long.mp4", seconds=5.0, extra=("-c:v", "libx264", "-c:a", "aac"))
    out = tmp_path / "visual"
    visual_pass(longer, out)
    again = visual_pass(short, out)
    assert again.count == VisualSamples.load(out).count == 4


def test_unreadable_video_raises_media_error(tmp_path):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00" * 1000)
    with pytest.raises(MediaError, match="bogus.mp4"):
        visual_pass(bogus, tmp_path / "v")


def test_rejects_non_positive_rate(tmp_path):
    with pytest.raises(ValueError, match="fps"):
        visual_pass(SHARED_MEDIA / "testsrc.mkv", tmp_path / "v", fps=0)
