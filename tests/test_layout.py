"""Layout and slide changes: generated lectures against ground truth, crafted layouts."""

from __future__ import annotations

import contextlib
import importlib.metadata
from pathlib import Path

import cv2
import numpy as np
import pytest

from highlights.frame_stats import blank_mask
from highlights.layout import analyze_layout, estimate_regions, find_faces
from highlights.slides import detect_slide_changes
from highlights.types import Region
from highlights.visual import visual_pass
from tests.media_samples import (
    LectureSpec,
    Rect,
    analysed_lecture,
    compose_lecture,
    lecture_names,
    scratch_dir,
)

MATCH_S = 1.0  # a detected change within this of a true one is a hit


def test_opencv_is_the_headless_4x_build_with_cascades():
    assert cv2.__version__.startswith("4.")
    dists = {}
    for name in ("opencv-python", "opencv-python-headless", "opencv-contrib-python"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            dists[name] = importlib.metadata.version(name)
    # the GUI wheel installed over the headless one would shadow it (and need libGL)
    assert list(dists) == ["opencv-python-headless"], dists
    assert "GUI:                           NONE" in cv2.getBuildInformation()
    cascade = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
    assert cascade.is_file()
    assert not cv2.CascadeClassifier(str(cascade)).empty()


def _match(detected: list[float], truth: list[float]) -> tuple[int, int]:
    """(true changes found, detections matching no true change), one-to-one."""
    unused = list(truth)
    false = 0
    for t in detected:
        near = [u for u in unused if abs(u - t) <= MATCH_S]
        if near:
            unused.remove(min(near, key=lambda u: abs(u - t)))
        else:
            false += 1
    return len(truth) - len(unused), false


@pytest.fixture(scope="module", params=lecture_names())
def lecture_layout(request):
    lecture = analysed_lecture(request.param)
    layout, changes = analyze_layout(lecture.visual)
    return lecture, layout, changes


def test_layout_type_and_regions_match_ground_truth(lecture_layout):
    lecture, layout, _ = lecture_layout
    truth = lecture.truth["layout"]
    assert layout.layout_type == truth["layout_type"]
    assert layout.screen_region.iou(Region.from_dict(truth["screen_region"])) >= 0.9
    true_camera = Region.from_dict(truth["camera_region"])
    if true_camera.is_empty:
        assert layout.camera_region.is_empty
    else:
        assert layout.camera_region.iou(true_camera) >= 0.9
        assert layout.detector == "motion+haar"  # the face confirmed the camera
    assert layout.confidence_score >= 0.8


def test_split_ratio(lecture_layout):
    lecture, layout, _ = lecture_layout
    truth = lecture.truth["layout"]
    screen = Region.from_dict(truth["screen_region"])
    camera = Region.from_dict(truth["camera_region"])
    if truth["layout_type"] == "side_by_side":
        assert layout.split_ratio == pytest.approx(
            screen.width / (screen.width + camera.width), abs=0.02
        )
    elif truth["layout_type"] == "full_screen":
        assert layout.split_ratio == 1.0
    else:
        assert 0.5 < layout.split_ratio < 1.0


def test_slide_changes_found_and_builds_ignored(lecture_layout):
    lecture, _, changes = lecture_layout
    truth = lecture.truth["slide_changes"]
    hits, false = _match(changes, truth)
    assert hits / len(truth) >= 0.95
    assert false <= lecture.truth["duration"] / 600  # at most one per ten minutes
    for build in lecture.truth["bullet_builds"]:
        assert all(abs(build - t) > MATCH_S for t in changes), build
    assert changes == sorted(changes)


def test_sample_frame_shows_slide_and_face(lecture_layout):
    lecture, layout, changes = lecture_layout
    visual = lecture.visual
    t = layout.sample_frame_time
    assert t is not None and 0 <= t <= lecture.truth["duration"]
    i = int(np.argmin(np.abs(visual.times - t)))
    assert not blank_mask(visual, layout.screen_region, layout.camera_region)[i]
    assert all(abs(t - c) >= 1.0 for c in changes)
    if not layout.camera_region.is_empty:
        faces = find_faces(visual, layout.camera_region)
        assert any(abs(ft - t) < 0.01 for ft, _ in faces)


# --- crafted layouts the fixtures do not cover ------------------------------------------


def _analyse(name: str, spec: LectureSpec):
    work = scratch_dir(f"layout-{name}")
    video = compose_lecture(work / f"{name}.mp4", spec)
    visual = visual_pass(video, work / "visual")
    return visual, analyze_layout(visual)


def test_split_vertical_camera_below_the_screen():
    spec = LectureSpec(screen=Rect(0, 0, 640, 240), camera=Rect(0, 240, 640, 120))
    visual, (layout, changes) = _analyse("vertical", spec)
    assert layout.layout_type == "split_vertical"
    assert layout.camera_region.iou(spec.camera.region(640, 360)) >= 0.9
    assert layout.screen_region.iou(spec.screen.region(640, 360)) >= 0.9
    assert layout.split_ratio == pytest.approx(2 / 3, abs=0.03)
    hits, false = _match(changes, spec.slide_times[1:])
    assert hits == 3 and false == 0


def test_letterboxed_screen_beside_the_camera():
    # a 4:3 slide centred in the left part with black bars above and below it
    spec = LectureSpec(screen=Rect(16, 60, 320, 240), camera=Rect(416, 40, 224, 280), seed=3)
    visual, (layout, changes) = _analyse("letterbox", spec)
    assert layout.camera_region.iou(spec.camera.region(640, 360)) >= 0.9
    assert layout.screen_region.iou(spec.screen.region(640, 360)) >= 0.9
    hits, false = _match(changes, spec.slide_times[1:])
    assert hits == 3 and false == 0


def test_small_picture_in_picture_top_left():
    spec = LectureSpec(camera=Rect(12, 12, 144, 96), seed=5)
    visual, (layout, changes) = _analyse("pip-small", spec)
    assert layout.layout_type == "picture_in_picture"
    assert layout.camera_region.iou(spec.camera.region(640, 360)) >= 0.9
    assert layout.screen_region.iou(Region.full()) >= 0.9
    hits, false = _match(changes, spec.slide_times[1:])
    assert hits == 3 and false == 0


def test_screen_only_is_full_screen_with_empty_camera():
    lecture = analysed_lecture("screen") if "screen" in lecture_names() else None
    if lecture is None:
        visual, (layout, _) = _analyse("screen-only", LectureSpec())
    else:
        visual, (layout, _) = lecture.visual, analyze_layout(lecture.visual)
    assert layout.layout_type == "full_screen"
    assert layout.camera_region == Region.empty()
    assert layout.screen_region.iou(Region.full()) >= 0.95
    assert estimate_regions(visual) == (layout.screen_region, Region.empty())


def test_no_video_gives_a_default_layout():
    layout, changes = analyze_layout(None)
    assert layout.layout_type == "full_screen" and layout.confidence_score == 0.0
    assert layout.camera_region.is_empty and changes == []


def test_camera_noise_on_the_whole_frame_would_hide_slide_changes():
    # why the detector looks at the screen region only: on the whole side-by-side frame
    # the camera's constant change makes every sample pair look like a change
    lecture = analysed_lecture("sbs") if "sbs" in lecture_names() else None
    if lecture is None:
        pytest.skip("needs the side-by-side fixture lecture")
    layout, changes = analyze_layout(lecture.visual)
    whole = detect_slide_changes(lecture.visual, Region.full(), None, min_spacing=0.0)
    on_screen = detect_slide_changes(
        lecture.visual, layout.screen_region, layout.camera_region, min_spacing=0.0
    )
    assert len(on_screen) == len(lecture.truth["slide_changes"])
    assert len(whole) != len(on_screen)
