"""Slides taken at the source's key frames: where those fall, when the screen still shows
the same picture there, and that the deck read at them is the deck read at the moments
chosen before. Real encoded fixture lectures and the real OCR engine throughout."""

from __future__ import annotations

import av
import numpy as np
import pytest

from highlights.frame_stats import screen_unchanged
from highlights.slide_text import KeyFrames, grab_frames, read_deck
from highlights.types import Region
from tests.media_samples import LECTURES, analysed_lecture


def _regions(truth: dict) -> tuple[Region, Region]:
    layout = truth["layout"]
    return Region.from_dict(layout["screen_region"]), Region.from_dict(layout["camera_region"])


def test_the_visual_pass_records_the_streams_key_frames() -> None:
    lecture = analysed_lecture("sbs")
    with av.open(str(lecture.path)) as container:
        stream = container.streams.video[0]
        keys = sorted(
            float(p.pts * p.time_base)
            for p in container.demux(stream)
            if p.is_keyframe and p.pts is not None
        )
    assert len(keys) >= 10
    assert lecture.visual.intra_times.tolist() == pytest.approx(keys, abs=1e-3)


@pytest.mark.parametrize("name", ["sbs", "pip"])
def test_screen_unchanged_sees_a_bullet_and_a_slide_change_not_the_presenter(name: str) -> None:
    lecture = analysed_lecture(name)
    truth = lecture.truth
    unchanged = screen_unchanged(lecture.visual, *_regions(truth))
    build = next(b for b in truth["bullet_builds"] if b > 40)
    change = truth["slide_changes"][0]
    # the presenter moves all the while (beside the slide, or over it in a corner)
    assert unchanged(build + 1.0, build + 5.0)
    assert unchanged(change - 6.0, change - 1.5)
    assert not unchanged(build - 2.0, build + 2.0)  # one bullet appeared
    assert not unchanged(change - 2.0, change + 2.0)


def test_key_frame_before_a_moment() -> None:
    keys = np.array([0.0, 10.0, 20.0, 30.0])
    same = KeyFrames(keys, lambda a, b: True)
    assert same.before(27.5, earliest=15.0) == 20.0
    assert same.before(20.0, earliest=15.0) == 20.0
    assert same.before(27.5, earliest=21.0) == 27.5  # no key frame late enough in the span
    assert KeyFrames(keys, lambda a, b: False).before(27.5, earliest=15.0) == 27.5
    assert KeyFrames(np.zeros(0), lambda a, b: True).before(5.0, earliest=1.0) == 5.0
    asked: list[tuple[float, float]] = []
    KeyFrames(keys, lambda a, b: asked.append((a, b)) or True).before(27.5, earliest=0.0)
    assert asked == [(20.0, 27.5)]  # only the latest key frame is a candidate


def test_the_cheapest_moment_is_a_key_frame_or_the_earliest_same_picture() -> None:
    keys = np.array([0.0, 10.0, 20.0, 30.0])
    samples = np.arange(0.0, 40.0, 0.5)

    def same_from(first: float):  # noqa: ANN202 - the screen shows one picture from `first` on
        return lambda a, b: a >= first and b >= first

    # a bullet appeared at 24: no key frame shows the full slide, 24 is nearest key frame 20
    assert KeyFrames(keys, same_from(24.0), samples).cheapest(28.5, earliest=21.0) == 24.0
    # the slide was whole from 18: the key frame at 20 shows it
    assert KeyFrames(keys, same_from(18.0), samples).cheapest(28.5, earliest=15.0) == 20.0
    # never before 21 however long it was the same
    assert KeyFrames(keys, same_from(0.0), samples).cheapest(28.5, earliest=21.0) == 21.0
    # changing to the last: the planned moment
    assert KeyFrames(keys, same_from(28.5), samples).cheapest(28.5, earliest=21.0) == 28.5
    # no sample times known: the key frame or the moment, as before
    assert KeyFrames(keys, same_from(24.0)).cheapest(28.5, earliest=21.0) == 28.5


def _exact_frames(path, times):  # noqa: ANN001, ANN202
    """The first frame at or after each time, every frame decoded from the start."""
    out = []
    with av.open(str(path)) as container:
        frames = container.decode(container.streams.video[0])
        for wanted in sorted(times):
            frame = next(f for f in frames if float(f.time) + 1e-3 >= wanted)
            out.append(frame.to_ndarray(format="bgr24"))
    return out


def test_frames_grabbed_skipping_non_reference_frames_show_the_same_slide() -> None:
    """Most B-frames are not decoded: a picture may come a frame or two late, the slide
    in it is the one at the time asked for (the presenter beside it may have moved)."""
    lecture = analysed_lecture("sbs")
    screen, _camera = _regions(lecture.truth)
    times = [3.3, 17.77, 41.1, 41.5, 96.02, 150.3]
    grabbed = [frame for _, frame in grab_frames(lecture.path, times, lecture.visual.intra_times)]
    exact = _exact_frames(lecture.path, times)
    assert len(grabbed) == len(exact) == len(times)
    for ours, theirs in zip(grabbed, exact, strict=True):
        w = ours.shape[1]
        x0, x1 = int(screen.x * w) + 8, int((screen.x + screen.width) * w) - 8
        slide_ours, slide_theirs = ours[:, x0:x1].astype(int), theirs[:, x0:x1].astype(int)
        assert np.abs(slide_ours - slide_theirs).mean() < 1.5


def test_a_frame_skipped_past_is_decoded_again_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """When skipping lands past the time asked for (a stream with few reference frames),
    that time is decoded again with every frame: the exact frame comes back."""
    import highlights.slide_text as slide_text

    lecture = analysed_lecture("sbs")
    times = [3.3, 17.77, 41.1, 96.02]
    monkeypatch.setattr(slide_text, "_SKIPPED_FRAMES_SLACK", -1.0)  # every pick is too late
    grabbed = [frame for _, frame in grab_frames(lecture.path, times, lecture.visual.intra_times)]
    for ours, theirs in zip(grabbed, _exact_frames(lecture.path, times), strict=True):
        assert np.array_equal(ours, theirs)


def test_pictures_are_decoded_on_the_calling_thread() -> None:
    """No decoder or colour-conversion threads: the CPU time of taking the pictures is the reading thread's
    own, which is what the layout stage records (`picture_cpu_seconds`)."""
    from pathlib import Path

    lecture = analysed_lecture("sbs")
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        pytest.skip("counting a process's threads needs Linux's /proc")
    before = len(list(tasks.iterdir()))
    grabs = grab_frames(lecture.path, [5.0, 25.0, 60.0], lecture.visual.intra_times)
    next(grabs)
    during = len(list(tasks.iterdir()))
    list(grabs)
    assert during == before


def test_frames_grabbed_with_key_frames_known_are_the_same_pictures() -> None:
    lecture = analysed_lecture("sbs")
    keys = lecture.visual.intra_times
    times = [float(keys[2]), float(keys[2]) + 3.1, float(keys[3]) - 0.4, float(keys[5]), 150.3]
    with_keys = list(grab_frames(lecture.path, times, keys))
    without = list(grab_frames(lecture.path, times))
    assert [t for t, _ in with_keys] == [t for t, _ in without] == sorted(times)
    for (_, a), (_, b) in zip(with_keys, without, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("name", ["sbs", "pip"])
def test_a_deck_read_at_key_frames_is_the_deck_read_at_the_moments(name: str) -> None:
    lecture = analysed_lecture(name)
    truth = lecture.truth
    screen, camera = _regions(truth)
    key_frames = KeyFrames(lecture.visual.intra_times,
                           screen_unchanged(lecture.visual, screen, camera))
    args = (LECTURES / f"{name}.mp4", truth["slide_changes"], truth["duration"], screen, camera)
    at_moments = read_deck(*args)
    at_keys = read_deck(*args, key_frames=key_frames)
    assert at_keys.key_frame_grabs >= 3 and at_moments.key_frame_grabs == 0
    assert at_keys.summary()["key_frame_grabs"] == at_keys.key_frame_grabs

    def text(deck):  # noqa: ANN001, ANN202
        return [(s.title, [ln.text for ln in s.lines]) for s in deck.slides]

    # bullet builds included: every slide reads as it did, last bullet and all
    assert text(at_keys) == text(at_moments)
