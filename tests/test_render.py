"""Clip rendering with real ffmpeg, checked on decoded frames and probed files.

The source is a small synthetic lecture made here: slides with text on the left, a
real face photo (scikit-image's astronaut) as the camera on the right, a tone as
audio, and a black (blank) stretch. Known content lets every check look at pixels
instead of trusting the ffmpeg command line.
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import srt

from highlights.ffmpeg import ffmpeg_exe
from highlights.render import RenderError, RenderOptions, render_clips
from highlights.render.clip import encode_command, run
from highlights.render.framing import PixelRect
from highlights.render.source import SourceVideo, probe_source
from highlights.render.thumbnail import frame_score
from highlights.render.vertical import vertical_frame
from highlights.selection import SelectionOptions, select_clips, split_sentences
from highlights.types import (
    ClipPlan,
    ContentAnalysis,
    LayoutResult,
    Region,
    TopicSegment,
    Transcript,
    TranscriptSegment,
    Word,
)
from tests.media_samples import SHARED_MEDIA

W, H, FPS, DURATION = 640, 360, 15, 12
SLIDE_W = 448  # the screen is the left 70 %
BLANK = (8.0, 9.5)  # the whole frame is black here
SLIDE_STARTS = (0.0, 4.0, 9.5)
SLIDE_COLOURS = ((255, 255, 255), (190, 225, 255), (225, 255, 200))  # BGR, one per slide
FAST = {"preset": "ultrafast"}
SIDE_BY_SIDE = LayoutResult(
    Region(0, 0, 0.7, 1), Region(0.7, 0, 0.3, 1), 0.7, "side_by_side", 0.9, 1.0
)
FULL_SCREEN = LayoutResult(Region.full(), Region.empty(), 1.0, "full_screen", 0.9, 1.0)

SENTENCES = [
    "Remember, a hash table maps keys to buckets.",
    "Collisions happen when two keys share a bucket.",
    "We resolve them by chaining or by probing.",
    "The load factor controls how fast lookups are.",
    "Keep it below one half for open addressing.",
]


def slide_index(t: float) -> int:
    return sum(1 for s in SLIDE_STARTS if t >= s) - 1


def lecture_frame(t: float, face: np.ndarray) -> np.ndarray:
    if BLANK[0] <= t < BLANK[1]:
        return np.zeros((H, W, 3), np.uint8)
    n = slide_index(t)
    img = np.full((H, W, 3), SLIDE_COLOURS[n], np.uint8)
    cv2.putText(
        img, f"Slide {n + 1}: Hash tables", (20, 50), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2
    )
    for k in range(4):
        cv2.putText(
            img,
            f"- point {k + 3 * n} about buckets",
            (30, 110 + 45 * k),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7,
            (20, 20, 20),
            2,
        )
    img[:, SLIDE_W:] = (40, 40, 40)
    img[52:308, SLIDE_W:] = face
    return img


def make_source(path: Path, *, audio: bool = True) -> Path:
    from skimage import data

    face = cv2.resize(
        cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[0:400, 100:400], (W - SLIDE_W, 256)
    )
    cmd = [
        ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{W}x{H}",
        "-r",
        str(FPS),
        "-i",
        "-",
    ]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=f=300:d={DURATION}", "-c:a", "aac", "-shortest"]
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "12",
        "-pix_fmt",
        "yuv420p",
        str(path),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(FPS * DURATION):
        proc.stdin.write(lecture_frame(i / FPS, face).tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


def make_transcript() -> Transcript:
    segments, t = [], 0.3
    for sentence in SENTENCES:
        words = []
        for token in sentence.split():
            words.append(Word(round(t, 3), round(t + 0.16, 3), token))
            t += 0.2
        segments.append(TranscriptSegment(words[0].start, words[-1].end, sentence, 0.9, words))
        t += 0.35
    assert t < DURATION
    return Transcript(segments, language="en")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return make_source(tmp_path_factory.mktemp("src") / "lecture.mp4")


@pytest.fixture(scope="module")
def transcript() -> Transcript:
    return make_transcript()


def decode_frames(path: Path | str, fmt: str = "bgr24") -> list[tuple[float, np.ndarray]]:
    with av.open(str(path)) as container:
        return [(f.time, f.to_ndarray(format=fmt)) for f in container.decode(video=0)]


def frame_at(frames: list[tuple[float, np.ndarray]], t: float) -> np.ndarray:
    return min(frames, key=lambda tf: abs(tf[0] - t))[1]


def probe(path: Path | str) -> dict:
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        return {
            "duration": container.duration / av.time_base,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "sar": v.sample_aspect_ratio,
            "codec": v.codec_context.name,
            "pix_fmt": v.codec_context.pix_fmt,
            "audio": [a.codec_context.name for a in container.streams.audio],
        }


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# --- original format -----------------------------------------------------------------


def test_selected_clips_render_frame_accurately_with_subtitles(source, transcript, tmp_path):
    analysis = ContentAnalysis(
        [
            TopicSegment(0, 6, "Hashing", None, 0.6, keywords=["hash table"]),
            TopicSegment(6, DURATION, "Load factor", None, 0.9, keywords=["load factor"]),
        ],
        provider="test",
    )
    plans = select_clips(
        analysis,
        transcript,
        [],
        DURATION,
        SelectionOptions(count=2, min_seconds=3, max_seconds=6, padding=0.2),
    )
    assert len(plans) == 2
    calls = []
    clips = render_clips(
        source,
        plans,
        transcript,
        SIDE_BY_SIDE,
        RenderOptions(**FAST),
        tmp_path,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert calls == [(1, 2), (2, 2)]
    assert [c.plan.rank for c in clips] == [1, 2]
    source_frames = decode_frames(source)
    words = transcript.words
    sentence_starts = {s.start for s in split_sentences(transcript)}
    sentence_ends = {s.end for s in split_sentences(transcript)}
    for clip in clips:
        plan = clip.plan
        info = probe(clip.video_path)
        assert abs(info["duration"] - plan.duration) <= 0.1, (info, plan)
        assert (info["width"], info["height"], info["codec"], info["pix_fmt"]) == (
            640,
            360,
            "h264",
            "yuv420p",
        )
        assert info["audio"] == ["aac"]
        assert clip.metadata["duration"] == pytest.approx(info["duration"], abs=1e-3)
        assert clip.metadata["file_size"] == Path(clip.video_path).stat().st_size
        assert clip.metadata["crf"] == 20 and clip.metadata["preset"] == "ultrafast"
        # The clip holds whole sentences (word timings), so it cuts in a pause.
        inside = [w for w in words if plan.start <= w.start and w.end <= plan.end]
        assert inside[0].start in sentence_starts and inside[-1].end in sentence_ends
        # Frame accurate: the first frame is the source frame at the plan start.
        first = decode_frames(clip.video_path)[0][1]
        assert mad(first, frame_at(source_frames, plan.start)) < 4

        cues = list(srt.parse(Path(clip.srt_path).read_text()))
        assert cues and Path(clip.vtt_path).read_text().startswith("WEBVTT")
        assert all(
            0 <= c.start.total_seconds() < c.end.total_seconds() <= plan.duration + 1e-3
            for c in cues
        )
        cue_words = " ".join(c.content.replace("\n", " ") for c in cues).split()
        assert cue_words == [w.text for w in inside]


def test_cut_starts_exactly_at_a_slide_change(source, tmp_path):
    # Slide 2 appears at 4.0 s and the source has a single keyframe at 0: a keyframe
    # cut would start on slide 1.
    plans = [ClipPlan(4.1, 5.6, 0, "t", "t", 0.5, 1), ClipPlan(3.6, 4.5, 0, "t", "t", 0.4, 2)]
    clips = render_clips(
        source, plans, None, None, RenderOptions(write_thumbnail=False, **FAST), tmp_path
    )
    src = decode_frames(source)
    slide1, slide2 = frame_at(src, 2.0), frame_at(src, 6.0)
    assert mad(slide1, slide2) > 3
    first_a = decode_frames(clips[0].video_path)[0][1]
    first_b = decode_frames(clips[1].video_path)[0][1]
    assert mad(first_a, slide2) < mad(first_a, slide1)
    assert mad(first_b, slide1) < mad(first_b, slide2)
    assert clips[0].srt_path is None  # no transcript, no subtitle files


def test_thumbnail_avoids_blank_frames_and_shows_the_slide(source, tmp_path):
    # The middle of this clip is black; a middle-frame thumbnail would be blank.
    plan = ClipPlan(7.4, 10.4, 0, "t", "t", 0.5, 1)
    clip = render_clips(source, [plan], None, SIDE_BY_SIDE, RenderOptions(**FAST), tmp_path)[0]
    thumb = cv2.imread(clip.thumbnail_path)
    assert thumb.shape[:2] == (360, 640)
    assert thumb.std() > 30
    assert not (BLANK[0] <= plan.start + clip.metadata["thumbnail_time"] < BLANK[1])
    # The slide region of the thumbnail matches the source slide at that time.
    src = frame_at(decode_frames(source), plan.start + clip.metadata["thumbnail_time"])
    assert mad(thumb[:, :SLIDE_W], src[:, :SLIDE_W]) < 6
    assert frame_score(np.zeros((90, 160), np.uint8)) < frame_score(
        cv2.cvtColor(src, cv2.COLOR_BGR2GRAY)
    )


# --- burned captions -------------------------------------------------------------------


def test_burned_captions_change_only_the_caption_area(source, transcript, tmp_path, monkeypatch):
    # A fontconfig with no font folders: the shipped font must still be used.
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><fontconfig></fontconfig>\n')
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    plan = ClipPlan(0.1, 3.1, 0, "t", "t", 0.5, 1)
    opts = {"write_thumbnail": False, "crf": 12, **FAST}
    plain = render_clips(
        source, [plan], transcript, SIDE_BY_SIDE, RenderOptions(**opts), tmp_path / "plain"
    )[0]
    burned = render_clips(
        source,
        [plan],
        transcript,
        SIDE_BY_SIDE,
        RenderOptions(burn_captions=True, **opts),
        tmp_path / "burned",
    )[0]
    assert burned.metadata["captions_burned"] and not plain.metadata["captions_burned"]

    a, b = decode_frames(plain.video_path, "gray"), decode_frames(burned.video_path, "gray")
    t = 1.5  # inside the first cue
    diff = np.abs(frame_at(a, t).astype(np.int16) - frame_at(b, t).astype(np.int16))
    bottom, rest = diff[int(H * 0.7) :], diff[: int(H * 0.6)]
    assert (bottom > 60).sum() > 500, "no caption drawn in the bottom area"
    assert rest.mean() < 1.0 and (rest > 60).sum() < 50


def test_burned_captions_on_vertical_clip_sit_low(source, transcript, tmp_path):
    plan = ClipPlan(0.1, 2.1, 0, "t", "t", 0.5, 1)
    opts = {"format": "vertical", "write_thumbnail": False, "crf": 14, **FAST}
    plain = render_clips(
        source, [plan], transcript, SIDE_BY_SIDE, RenderOptions(**opts), tmp_path / "plain"
    )[0]
    burned = render_clips(
        source,
        [plan],
        transcript,
        SIDE_BY_SIDE,
        RenderOptions(burn_captions=True, **opts),
        tmp_path / "burned",
    )[0]
    a, b = decode_frames(plain.video_path, "gray"), decode_frames(burned.video_path, "gray")
    diff = np.abs(frame_at(a, 1.2).astype(np.int16) - frame_at(b, 1.2).astype(np.int16))
    changed_rows = np.nonzero((diff > 60).sum(axis=1) > 5)[0]
    height = diff.shape[0]
    assert height == 1280  # a 448 px screen gets the 720x1280 phone frame
    assert len(changed_rows) > 40 * height / 1920
    assert changed_rows.min() > height * 0.6 and changed_rows.max() < height * 0.95


# --- vertical format -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "screen_share", "sar", "options", "expected"),
    [
        ((640, 360), 1.0, Fraction(1), {}, (720, 1280)),  # 360p screen share
        ((960, 540), 0.7, Fraction(1), {}, (720, 1280)),  # 672 px screen beside a camera
        ((1280, 720), 0.7, Fraction(1), {}, (1080, 1920)),  # 896 px screen
        ((1920, 1080), 1.0, Fraction(1), {}, (1080, 1920)),
        ((704, 576), 1.0, Fraction(16, 11), {}, (1080, 1920)),  # anamorphic: shown 1024 wide
        ((640, 360), 1.0, Fraction(1), {"vertical_width": 540, "vertical_height": 960}, (540, 960)),
        ((3840, 2160), 1.0, Fraction(1), {"vertical_width": 1440, "vertical_height": 2560},
         (1440, 2560)),
    ],
)
def test_vertical_frame_is_no_larger_than_the_screen_needs(size, screen_share, sar, options, expected):
    width, height = size
    src = SourceVideo(Path("lecture.mp4"), width, height, sar, 25.0, 60.0, True, 2)
    screen = PixelRect(0, 0, round(width * screen_share / 2) * 2, height)
    assert vertical_frame(screen, src, RenderOptions(format="vertical", **options)) == expected


def test_vertical_clip_stacks_slide_over_face(source, tmp_path):
    plan = ClipPlan(1.0, 3.0, 0, "t", "t", 0.5, 1)
    clip = render_clips(
        source, [plan], None, SIDE_BY_SIDE, RenderOptions(format="vertical", **FAST), tmp_path
    )[0]
    info = probe(clip.video_path)
    # The 448 px screen would only be upscaled into 1080 columns: the smaller phone frame.
    assert (info["width"], info["height"]) == (720, 1280)
    assert clip.metadata["framing"] == "vertical_stack"
    frame = frame_at(decode_frames(clip.video_path), 1.0)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)

    # Top: the slide, scaled to the full width: text edges, matching the source crop.
    top_h = round(720 * H / SLIDE_W / 2) * 2
    top = gray[:top_h]
    src = cv2.cvtColor(frame_at(decode_frames(source), plan.start + 1.0), cv2.COLOR_BGR2GRAY)
    expected = cv2.resize(src[:, :SLIDE_W], (720, top_h), interpolation=cv2.INTER_AREA)
    assert mad(top, expected) < 6
    edges = cv2.Canny(top, 80, 160)
    assert edges.mean() > 2.0  # text strokes

    # Bottom: the presenter, found by a face detector on the decoded frame.
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    bottom = gray[top_h:]
    faces = cascade.detectMultiScale(bottom, 1.1, 5, minSize=(120, 120))
    assert len(faces) >= 1
    assert len(cascade.detectMultiScale(top, 1.1, 5, minSize=(120, 120))) == 0

    thumb = cv2.imread(clip.thumbnail_path)
    assert thumb.shape[:2] == (1280, 720) and thumb.std() > 30


def test_vertical_screen_only_lecture_is_centred_on_a_blurred_fill(source, tmp_path):
    plan = ClipPlan(1.0, 2.5, 0, "t", "t", 0.5, 1)
    clip = render_clips(
        source,
        [plan],
        None,
        FULL_SCREEN,
        RenderOptions(format="vertical", write_thumbnail=False, **FAST),
        tmp_path,
    )[0]
    assert clip.metadata["framing"] == "vertical_blur_fill"
    gray = cv2.cvtColor(frame_at(decode_frames(clip.video_path), 0.5), cv2.COLOR_BGR2GRAY)
    assert gray.shape == (1280, 720)  # a 640 px screen: the smaller phone frame
    fg_h = round(720 * H / W / 2) * 2
    y0 = (1280 - fg_h) // 2
    centre, band = gray[y0 + 4 : y0 + fg_h - 4], gray[: y0 - 4]
    src = cv2.cvtColor(frame_at(decode_frames(source), plan.start + 0.5), cv2.COLOR_BGR2GRAY)
    assert mad(centre, cv2.resize(src, (720, fg_h))[4:-4]) < 6
    # The fill is the same picture, blurred: not black, and far smoother than the centre.
    assert band.mean() > 40
    assert cv2.Laplacian(band, cv2.CV_64F).var() * 20 < cv2.Laplacian(centre, cv2.CV_64F).var()


# --- awkward sources ----------------------------------------------------------------


def test_source_without_audio_gets_a_silent_track(tmp_path):
    src = make_source(tmp_path / "silent.mp4", audio=False)
    clip = render_clips(
        src,
        [ClipPlan(1.0, 3.0, 0, "t", "t", 0.5, 1)],
        None,
        None,
        RenderOptions(write_thumbnail=False, **FAST),
        tmp_path / "out",
    )[0]
    assert clip.metadata["audio"] == "silent"
    assert probe(clip.video_path)["audio"] == ["aac"]
    with av.open(clip.video_path) as container:
        samples = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
    assert samples.size > 48000 and np.abs(samples).max() == 0


def test_high_sample_rate_audio_is_resampled_to_48_khz(tmp_path):
    # A 192 kHz track (studio recorders) is beyond what AAC can carry.
    src = tmp_path / "studio.mkv"
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=192000", "-t", "3",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s24le", str(src)],
        check=True,
    )  # fmt: skip
    clip = render_clips(
        src, [ClipPlan(0.5, 2.5, 0, "t", "t", 0.5, 1)], None, None,
        RenderOptions(write_thumbnail=False, **FAST), tmp_path / "out",
    )[0]  # fmt: skip
    with av.open(clip.video_path) as container:
        audio = container.streams.audio[0].codec_context
        assert (audio.name, audio.sample_rate) == ("aac", 48000)
        tone = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
    assert np.abs(tone).max() > 0.1  # the tone is there, not silence


def test_non_square_pixels_are_made_square(tmp_path):
    src = SHARED_MEDIA / "SAR-2by3.mp4"
    if not src.exists():
        pytest.skip("shared media not present")
    clip = render_clips(
        src, [ClipPlan(0.2, 1.6, 0, "t", "t", 0.5, 1)], None, None, RenderOptions(**FAST), tmp_path
    )[0]
    info = probe(clip.video_path)
    assert (info["width"], info["height"]) == (426, 360)  # 640 x 2/3 shown width, even
    assert info["sar"] in (None, 1)
    assert abs(info["duration"] - 1.4) <= 0.1


@pytest.mark.parametrize("name", ["testsrc-hevc.mp4", "test_yuv422p.mp4", "testsrc.mkv"])
def test_awkward_sources_become_h264_yuv420p_mp4(name, tmp_path):
    src = SHARED_MEDIA / name
    if not src.exists():
        pytest.skip("shared media not present")
    clip = render_clips(
        src, [ClipPlan(0.3, 1.5, 0, "t", "t", 0.5, 1)], None, None, RenderOptions(**FAST), tmp_path
    )[0]
    info = probe(clip.video_path)
    assert (info["codec"], info["pix_fmt"], info["audio"]) == ("h264", "yuv420p", ["aac"])
    assert abs(info["duration"] - 1.2) <= 0.1
    assert cv2.imread(clip.thumbnail_path).std() > 10


# --- errors ------------------------------------------------------------------------


def test_bad_inputs_raise_permanent_render_errors(source, tmp_path):
    plan = ClipPlan(0.5, 2.0, 0, "t", "t", 0.5, 1)
    with pytest.raises(RenderError, match="not found") as missing:
        render_clips(tmp_path / "nope.mp4", [plan], None, None, RenderOptions(), tmp_path)
    assert not missing.value.transient
    with pytest.raises(RenderError, match="past the end"):
        render_clips(
            source, [ClipPlan(5, 30, 0, "t", "t", 0.5, 1)], None, None, RenderOptions(), tmp_path
        )
    with pytest.raises(RenderError, match="preset"):
        render_clips(source, [plan], None, None, RenderOptions(preset="warp"), tmp_path)
    audio_only = SHARED_MEDIA / "aac.m4a"
    if audio_only.exists():
        # Audio-only sources become audiograms (tests/test_audiogram.py), unless the
        # caller insists on cutting video.
        with pytest.raises(RenderError, match="no video stream"):
            render_clips(
                audio_only, [plan], None, None, RenderOptions(), tmp_path, picture="video"
            )
    # A truncated file: ffmpeg or PyAV fails on it; the error is not retryable.
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(source.read_bytes()[:3000])
    with pytest.raises(RenderError) as bad:
        render_clips(broken, [plan], None, None, RenderOptions(**FAST), tmp_path)
    assert not bad.value.transient


def test_disk_full_is_a_transient_error(source, tmp_path):
    # /dev/full fails every write with ENOSPC, as a full disk would.
    src = probe_source(source)
    args = encode_command(
        src,
        0.5,
        1.0,
        "[0:v]format=yuv420p[base]",
        "base",
        RenderOptions(**FAST),
        1,
        Path("/dev/full"),
    )
    with pytest.raises(RenderError) as full:
        run(args, what="disk full test", cwd=tmp_path, timeout=60)
    assert full.value.transient
    assert "space" in str(full.value).lower() or "space" in full.value.stderr_tail.lower()


# --- the generated lectures (tests/fixtures/lectures) --------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "lectures"
LECTURES = sorted(p.stem for p in FIXTURES.glob("*.json") if p.with_suffix(".mp4").exists())


def fixture_truth(name: str) -> tuple[dict, LayoutResult]:
    truth = json.loads((FIXTURES / f"{name}.json").read_text())
    lay = truth["layout"]
    layout = LayoutResult(
        Region.from_dict(lay["screen_region"]),
        Region.from_dict(lay["camera_region"]),
        0.7,
        lay["layout_type"],
        0.9,
        None,
    )
    return truth, layout


def speaking_time(truth: dict) -> float:
    """A moment inside a sentence of the first topic, away from blanks and slide changes."""
    s = truth["speech"][3]
    return round((s["start"] + s["end"]) / 2, 2)


@pytest.mark.parametrize("name", LECTURES)
def test_generated_lecture_vertical_clip_shows_slide_and_presenter(name, tmp_path):
    truth, layout = fixture_truth(name)
    t = speaking_time(truth)
    plan = ClipPlan(t, t + 1.5, 0, "t", "t", 0.5, 1)
    clip = render_clips(
        FIXTURES / f"{name}.mp4",
        [plan],
        None,
        layout,
        RenderOptions(format="vertical", write_thumbnail=False, **FAST),
        tmp_path,
    )[0]
    frame = cv2.cvtColor(frame_at(decode_frames(clip.video_path), 0.5), cv2.COLOR_BGR2GRAY)
    src = cv2.cvtColor(
        frame_at(decode_frames_near(FIXTURES / f"{name}.mp4", t + 0.5), t + 0.5), cv2.COLOR_BGR2GRAY
    )
    sh, sw = src.shape
    scr = layout.screen_region
    screen = src[
        int(scr.y * sh) : int((scr.y + scr.height) * sh),
        int(scr.x * sw) : int((scr.x + scr.width) * sw),
    ]
    assert frame.shape == phone_frame(screen.shape[1])
    box = screen_box_pixels(clip.metadata["framing"], screen.shape, frame.shape)
    x0, y0, x1, y1 = box
    shown = frame[y0:y1, x0:x1]
    expected = cv2.resize(screen, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    assert mad(shown, expected) < 8, "the screen area does not show the lecture screen"
    assert cv2.Canny(shown, 80, 160).mean() > 1.0  # slide text strokes

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if layout.layout_type == "full_screen":
        assert clip.metadata["framing"] == "vertical_blur_fill"
        assert frame[: y0 - 8].mean() > 20  # blurred fill, not black bars
    else:
        assert clip.metadata["framing"] == "vertical_stack"
        size = 150 * frame.shape[1] // 1080
        faces = cascade.detectMultiScale(frame[y1:], 1.1, 5, minSize=(size, size))
        assert len(faces) >= 1, "no face in the camera part of the vertical clip"


def phone_frame(screen_width: int) -> tuple[int, int]:
    """(rows, columns) of the vertical frame a screen this wide gets: 720x1280 up to 720
    px, otherwise 1080x1920."""
    return (1280, 720) if screen_width <= 720 else (1920, 1080)


def screen_box_pixels(
    framing: str, screen_shape: tuple[int, int], frame_shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """Where the screen lands in the vertical frame, from its aspect (independently derived)."""
    h, w = screen_shape
    out_h, out_w = frame_shape[:2]
    if framing == "vertical_stack":
        top = min(round(out_w * h / w / 2) * 2, round(out_h * 0.7 / 2) * 2)
        return 0, 0, out_w, top
    fg = round(out_w * h / w / 2) * 2
    y0 = (out_h - fg) // 2
    return 0, y0, out_w, y0 + fg


def decode_frames_near(path: Path, t: float) -> list[tuple[float, np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(max(0.0, t - 3) * av.time_base))
        frames = []
        for f in container.decode(stream):
            if f.time > t + 0.5:
                break
            frames.append((f.time, f.to_ndarray(format="bgr24")))
        return frames


@pytest.mark.parametrize("name", LECTURES)
def test_generated_lecture_selected_clip_subtitles_match_the_spoken_words(name, tmp_path):
    truth, layout = fixture_truth(name)
    words, segments = [], []
    for s in truth["speech"]:
        tokens = s["text"].split()
        per = (s["end"] - s["start"]) / len(tokens)
        ws = [
            Word(round(s["start"] + k * per, 3), round(s["start"] + (k + 1) * per - 0.02, 3), tok)
            for k, tok in enumerate(tokens)
        ]
        words += ws
        segments.append(TranscriptSegment(s["start"], s["end"], s["text"], 0.9, ws))
    transcript = Transcript(segments)
    topics = [
        TopicSegment(
            t["start"],
            t["end"],
            t["title"],
            None,
            0.9 if t["important"] else 0.5,
            keywords=t["keywords"],
        )
        for t in truth["topics"]
    ]
    plans = select_clips(
        ContentAnalysis(topics, "truth"),
        transcript,
        [],
        truth["duration"],
        SelectionOptions(count=1, min_seconds=6, max_seconds=10),
    )
    clip = render_clips(
        FIXTURES / f"{name}.mp4", plans, transcript, layout, RenderOptions(**FAST), tmp_path
    )[0]
    plan = clip.plan
    assert abs(probe(clip.video_path)["duration"] - plan.duration) <= 0.1
    assert (probe(clip.video_path)["width"], probe(clip.video_path)["height"]) == (
        truth["width"],
        truth["height"],
    )
    spoken = [w.text for w in words if plan.start <= w.start and w.end <= plan.end]
    cues = list(srt.parse(Path(clip.srt_path).read_text()))
    assert " ".join(c.content.replace("\n", " ") for c in cues).split() == spoken
    assert all(c.end.total_seconds() <= plan.duration + 1e-3 for c in cues)
    thumb = cv2.imread(clip.thumbnail_path)
    assert thumb.std() > 20


def test_first_failure_cancels_clips_not_started_and_is_raised(source, tmp_path, monkeypatch):
    import highlights.render.batch as batch

    real = batch.render_clip

    def failing_second(job):
        if job.plan.rank == 2:
            raise RenderError("disk went away", transient=True)
        return real(job)

    monkeypatch.setattr(batch, "render_clip", failing_second)
    plans = [ClipPlan(0.5 + k, 1.5 + k, 0, "t", "t", 0.5, k + 1) for k in range(3)]
    seen = []
    with pytest.raises(RenderError, match="disk went away") as failed:
        render_clips(
            source,
            plans,
            None,
            None,
            RenderOptions(max_workers=1, write_thumbnail=False, **FAST),
            tmp_path,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert failed.value.transient
    assert (tmp_path / "clip_01.mp4").exists() and not (tmp_path / "clip_03.mp4").exists()
    assert seen == [(1, 3)]


def test_picture_in_picture_vertical_clip_shows_the_face_once(tmp_path):
    truth, layout = fixture_truth("pip")
    t = speaking_time(truth)
    clip = render_clips(
        FIXTURES / "pip.mp4", [ClipPlan(t, t + 1.5, 0, "t", "t", 0.5, 1)], None, layout,
        RenderOptions(format="vertical", write_thumbnail=False, **FAST), tmp_path,
    )[0]
    frame = frame_at(decode_frames(clip.video_path), 0.5)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    screen_shape = (round(layout.screen_region.height * truth["height"]),
                    round(layout.screen_region.width * truth["width"]))
    assert gray.shape == phone_frame(screen_shape[1])
    x0, y0, x1, y1 = screen_box_pixels(clip.metadata["framing"], screen_shape, gray.shape)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    face = 150 * gray.shape[1] // 1080
    assert len(cascade.detectMultiScale(gray[y1:], 1.1, 5, minSize=(face, face))) >= 1
    assert len(cascade.detectMultiScale(gray[y0:y1], 1.1, 3, minSize=(24, 24))) == 0
    # where the inset was, the slide's background colour (flat), not the camera
    cam, scr = layout.camera_region, layout.screen_region
    sx, sy = (x1 - x0) / scr.width, (y1 - y0) / scr.height
    ix0, iy0 = int((cam.x - scr.x) * sx) + 6, int((cam.y - scr.y) * sy) + 6
    ix1, iy1 = int((cam.x + cam.width - scr.x) * sx) - 6, int((cam.y + cam.height - scr.y) * sy) - 6
    inset = frame[y0 + iy0 : y0 + iy1, x0 + ix0 : x0 + ix1]
    assert inset.size and inset.std(axis=(0, 1)).max() < 6, inset.std(axis=(0, 1))
    cv2.imwrite(str(tmp_path / "pip-vertical.png"), frame)
