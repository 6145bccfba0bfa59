"""The synthetic lecture generator and the lectures committed from it.

The committed fixtures are checked against their own media every run (no system
packages needed): the JSON must describe the file that is actually there. Generating
a new lecture needs espeak-ng, so that test skips, saying so, where it is missing.
"""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from lecturesynth import LectureSpec, SynthError, generate_lecture
from lecturesynth.audio import PlacedUtterance, RoomNoise, write_soundtrack
from lecturesynth.layout import make_layout
from lecturesynth.plan import plan_lecture
from lecturesynth.presets import PRESETS
from lecturesynth.scripts import IMPORTANCE_CUES, TOPICS, TOPICS_BY_KEY

REPO = Path(__file__).resolve().parent.parent
COMMITTED = {name: REPO / path for name, (path, _) in PRESETS.items()}
REQUIRED_KEYS = {
    "duration",
    "width",
    "height",
    "fps",
    "layout",
    "topics",
    "slide_changes",
    "bullet_builds",
    "speech",
    "pauses",
    "blank",
    "transcript",
}


def _load(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def _decode_audio(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        chunks, rate = [], 0
        for frame in container.decode(audio=0):
            rate = frame.sample_rate
            chunks.append(frame.to_ndarray().astype(np.float64).mean(axis=0))
    return np.concatenate(chunks), rate


def _rms_dbfs(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples**2)) + 1e-12))


def _frames_at(path: Path, times: list[float]) -> dict[float, np.ndarray]:
    """Decode the frame showing at each time (grayscale), seeking for each one."""
    found: dict[float, np.ndarray] = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for t in sorted(times):
            container.seek(int(max(t - 1.0, 0) / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is not None and frame.time >= t - 1e-3:
                    found[t] = frame.to_ndarray(format="gray").astype(np.float32)
                    break
    return found


def _crop(image: np.ndarray, region: dict) -> np.ndarray:
    h, w = image.shape
    x0, y0 = int(region["x"] * w), int(region["y"] * h)
    return image[y0 : y0 + int(region["height"] * h), x0 : x0 + int(region["width"] * w)]


def check_timeline(truth: dict) -> None:
    """Properties of the ground truth alone, true of every generated lecture."""
    assert truth.keys() >= REQUIRED_KEYS
    duration = truth["duration"]
    speech = truth["speech"]
    assert speech, "a lecture must have speech"
    # Speech is ordered and never overlaps; pauses are exactly the gaps around it.
    gaps, cursor = [], 0.0
    for s in speech:
        assert s["start"] < s["end"] and s["text"].strip()
        if s["start"] > cursor:
            gaps.append((cursor, s["start"]))
        assert s["start"] >= cursor
        cursor = s["end"]
    gaps.append((cursor, duration))
    assert [(p["start"], p["end"]) for p in truth["pauses"]] == gaps
    assert truth["transcript"] == " ".join(s["text"] for s in speech)

    # Topics tile the lecture except the blank, and every sentence sits inside one.
    topics = truth["topics"]
    assert topics[0]["start"] == 0.0 and topics[-1]["end"] == duration
    blank = truth["blank"]
    for before, after in zip(topics, topics[1:], strict=False):
        if blank and before["end"] == blank["start"]:
            assert after["start"] == blank["end"]
        else:
            assert before["end"] == after["start"]
    assert sum(t["important"] for t in topics) <= 1
    for s in speech:
        assert any(t["start"] <= s["start"] and s["end"] <= t["end"] for t in topics), s

    # Every visual change happens in a pause, never during a sentence.
    def in_pause(t: float) -> bool:
        return any(p["start"] < t < p["end"] for p in truth["pauses"])

    for t in truth["slide_changes"] + truth["bullet_builds"]:
        assert in_pause(t), t
    assert not set(truth["slide_changes"]) & set(truth["bullet_builds"])
    for topic in topics[1:]:
        assert topic["start"] in truth["slide_changes"]
    if blank:
        assert any(
            p["start"] <= blank["start"] and blank["end"] <= p["end"] for p in truth["pauses"]
        )

    region = truth["layout"]
    for key in ("screen_region", "camera_region"):
        r = region[key]
        assert r["x"] >= 0 and r["x"] + r["width"] <= 1.0001
        assert r["y"] >= 0 and r["y"] + r["height"] <= 1.0001


def check_media(path: Path, truth: dict) -> None:
    """The JSON describes the media file: probe, audio levels, and pictures."""
    with av.open(str(path)) as container:
        assert abs(container.duration / 1e6 - truth["duration"]) <= 0.1
        video = container.streams.video[0]
        assert (video.codec_context.name, video.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (video.width, video.height) == (truth["width"], truth["height"])
        assert abs(float(video.average_rate) - truth["fps"]) < 0.01
        assert container.streams.audio[0].codec_context.name == "aac"

    audio, rate = _decode_audio(path)
    assert abs(len(audio) / rate - truth["duration"]) <= 0.1

    def level(start: float, end: float) -> float:
        return _rms_dbfs(audio[int(start * rate) : int(end * rate)])

    # Trim 20 ms at pause edges: AAC smears a few milliseconds of speech across them.
    pause_levels = [
        level(p["start"] + 0.02, p["end"] - 0.02)
        for p in truth["pauses"]
        if p["end"] - p["start"] > 0.1
    ]
    speech_levels = [level(s["start"], s["end"]) for s in truth["speech"]]
    floor = float(np.median(pause_levels))
    assert -60 < floor < -40, "the room-noise floor is faint but never digital silence"
    assert max(pause_levels) < floor + 4, "a pause holds speech: speech timing is wrong"
    assert min(speech_levels) > floor + 20, "a sentence is as quiet as the room: timing is wrong"
    # Speech starts and ends where the JSON says: the 50 ms inside each edge are well
    # above the floor, the 70 ms outside are at it. A shift of 0.1 s breaks one of these.
    speech = truth["speech"]
    assert min(level(s["start"], s["start"] + 0.05) for s in speech) > floor + 8
    assert min(level(s["end"] - 0.05, s["end"]) for s in speech) > floor + 6
    assert max(level(s["start"] - 0.08, s["start"] - 0.01) for s in speech) < floor + 6
    assert max(level(s["end"] + 0.01, s["end"] + 0.08) for s in speech) < floor + 6

    layout = truth["layout"]
    screen, camera = layout["screen_region"], layout["camera_region"]
    probes = [2.0, 2.2]  # two nearby frames on the first slide
    for t in truth["slide_changes"][:3] + truth["bullet_builds"][:2]:
        probes += [round(t - 0.2, 3), round(t + 0.2, 3)]
    blank = truth["blank"]
    if blank:
        probes.append(round((blank["start"] + blank["end"]) / 2, 3))
    frames = _frames_at(path, probes)

    still_a, still_b = _crop(frames[2.0], screen), _crop(frames[2.2], screen)
    if camera["width"] > 0:
        # Outside the camera the slide is static; the camera never is.
        cam_a, cam_b = _crop(frames[2.0], camera), _crop(frames[2.2], camera)
        assert np.abs(cam_a - cam_b).mean() > 1.0
        mask = np.ones_like(frames[2.0], dtype=bool)
        h, w = mask.shape
        mask[
            int(camera["y"] * h) : int((camera["y"] + camera["height"]) * h),
            int(camera["x"] * w) : int((camera["x"] + camera["width"]) * w),
        ] = False
        assert np.abs(frames[2.0] - frames[2.2])[mask].mean() < 0.5
    else:
        assert np.abs(still_a - still_b).mean() < 0.5
    for t in truth["slide_changes"][:3]:
        before, after = (
            _crop(frames[round(t - 0.2, 3)], screen),
            _crop(frames[round(t + 0.2, 3)], screen),
        )
        assert np.abs(before - after).mean() > 3.0, f"no slide change visible at {t}"
    for t in truth["bullet_builds"][:2]:
        before, after = (
            _crop(frames[round(t - 0.2, 3)], screen),
            _crop(frames[round(t + 0.2, 3)], screen),
        )
        change = np.abs(before - after)
        assert 0.2 < change.mean() < 3.0, f"a bullet build at {t} should add a little text"
    if blank:
        black = frames[round((blank["start"] + blank["end"]) / 2, 3)]
        assert black.mean() < 20 and black.std() < 3


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_committed_lecture_matches_its_media(name: str) -> None:
    path = COMMITTED[name]
    truth = _load(path)
    check_timeline(truth)
    check_media(path, truth)
    assert path.stat().st_size < 4_000_000


def test_committed_lectures_cover_what_the_team_needs() -> None:
    layouts = {name: _load(p)["layout"]["layout_type"] for name, p in COMMITTED.items()}
    assert layouts["sbs"] == "side_by_side"
    assert layouts["pip"] == "picture_in_picture"
    assert layouts["screen"] == "full_screen"
    for name in ("sbs", "pip"):
        truth = _load(COMMITTED[name])
        assert len(truth["topics"]) == 4
        assert 180 <= truth["duration"] <= 300
        assert truth["blank"] and 6 <= truth["blank"]["end"] - truth["blank"]["start"] <= 10
        lengths = [p["end"] - p["start"] for p in truth["pauses"]]
        assert any(0.3 <= x <= 0.8 for x in lengths) and sum(x >= 2.5 for x in lengths) >= 3
        assert [t["important"] for t in truth["topics"]].count(True) == 1
        cues = [c["text"] for c in truth["important_cues"]]
        assert set(cues) <= set(IMPORTANCE_CUES) and cues
    sbs, pip = (_load(COMMITTED[n]) for n in ("sbs", "pip"))
    assert not {t["title"] for t in sbs["topics"]} & {t["title"] for t in pip["topics"]}
    demo = _load(COMMITTED["demo"])
    assert len(demo["topics"]) >= 3
    assert all(t["end"] - t["start"] >= 40 for t in demo["topics"])


def _fake_speech(seconds_per_word: float = 0.35, rate: int = 8000):
    """A stand-in for espeak: a tone whose length follows the sentence's word count."""

    def synthesize(text: str) -> np.ndarray:
        n = int(len(text.split()) * seconds_per_word * rate)
        return (0.1 * np.sin(np.arange(n) * 2 * np.pi * 220 / rate)).astype(np.float32)

    return synthesize


def test_plan_places_cues_slides_and_blank_consistently() -> None:
    keys = ["hash_tables", "supply_demand", "plate_tectonics"]
    topics = [(TOPICS_BY_KEY[k], TOPICS_BY_KEY[k].title, i == 1) for i, k in enumerate(keys)]
    plan = plan_lecture(
        topics,
        _fake_speech(),
        fps=25,
        sample_rate=8000,
        seed=7,
        blank_after_topic=0,
        blank_seconds=7.0,
    )
    # Every library sentence is read once, in order, plus the cues in the important topic only.
    said = [u.text for u in plan.utterances if not u.is_cue]
    assert said == [s for k in keys for s in TOPICS_BY_KEY[k].sentences]
    assert {u.topic for u in plan.utterances if u.is_cue} == {1}
    assert [u.text for u in plan.utterances if u.is_cue] == list(IMPORTANCE_CUES)
    # One slide change per slide after the first, bullet builds only on building slides.
    slides = sum(len(TOPICS_BY_KEY[k].slides) for k in keys)
    assert len(plan.slide_change_frames) == slides - 1
    builds = sum(len(s.bullets) - 1 for k in keys for s in TOPICS_BY_KEY[k].slides if s.builds)
    assert len(plan.bullet_build_frames) == builds
    assert plan.blank_frames is not None
    assert plan.blank_frames[1] - plan.blank_frames[0] == 7 * 25
    assert plan.topics[0].end_frame == plan.blank_frames[0]
    assert plan.topics[1].start_frame == plan.blank_frames[1]
    layout = make_layout("side_by_side", 640, 360)
    from lecturesynth.truth import ground_truth

    check_timeline(ground_truth(plan, layout))


def test_soundtrack_has_a_real_noise_floor_and_exact_placement(tmp_path: Path) -> None:
    rate = 16000
    tone = (0.2 * np.sin(np.arange(rate) * 2 * np.pi * 440 / rate)).astype(np.float32)
    # The utterance straddles the writer's 10 s block boundary on purpose.
    start = int(9.5 * rate)
    room = RoomNoise(noise_dbfs=-50.0, hum_dbfs=-55.0, seed=3)
    path = tmp_path / "track.wav"
    write_soundtrack(path, 12 * rate, rate, [PlacedUtterance(start, tone)], room)
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == rate and wav.getnframes() == 12 * rate
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2") / 32768.0
    assert np.count_nonzero(samples[: start - 10] == 0) < 0.05 * start  # never digital silence
    assert abs(_rms_dbfs(samples[:start]) - room.floor_dbfs) < 1.5
    assert abs(_rms_dbfs(samples[start : start + rate]) - _rms_dbfs(tone)) < 0.5
    # The noise is continuous across the block boundary: no step in level there.
    assert abs(_rms_dbfs(samples[9 * rate : start]) - _rms_dbfs(samples[11 * rate :])) < 2.0
    # The hum is there: a clear 50 Hz line in the spectrum of the floor.
    spectrum = np.abs(np.fft.rfft(samples[:start]))
    freqs = np.fft.rfftfreq(start, 1 / rate)
    hum = spectrum[np.argmin(np.abs(freqs - 50))]
    around = spectrum[(freqs > 35) & (freqs < 65) & (np.abs(freqs - 50) > 2)]
    assert hum > 5 * np.median(around)


def test_bad_requests_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="unknown topic"):
        generate_lecture(LectureSpec(topics=("hash_tables", "astrology")), tmp_path / "x.mp4")
    with pytest.raises(SynthError, match="even"):
        generate_lecture(LectureSpec(width=641), tmp_path / "x.mp4")
    with pytest.raises(SynthError, match="unknown layout"):
        generate_lecture(LectureSpec(layout="mosaic"), tmp_path / "x.mp4")  # type: ignore[arg-type]
    with pytest.raises(SynthError, match=r"\.mp4"):
        generate_lecture(LectureSpec(), tmp_path / "x.avi")
    with pytest.raises(SynthError, match="out of range"):
        generate_lecture(LectureSpec(topics=("sorting",), important_topic=3), tmp_path / "x.mp4")


def test_topic_library_is_varied_and_speakable() -> None:
    assert len(TOPICS) >= 12
    for topic in TOPICS:
        text = " ".join(topic.sentences).lower()
        assert 5 <= len(topic.sentences) <= 12, topic.key
        assert 1 <= len(topic.slides) <= 2
        assert not any(ch.isdigit() for ch in text), "digits read differently by TTS and ASR"
        assert sum(k in text for k in topic.keywords) >= len(topic.keywords) - 1, topic.key
        assert not any(cue.lower() in text for cue in IMPORTANCE_CUES)


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng not installed: generating new lectures needs it (apt-get install espeak-ng); "
    "the committed fixtures are still validated above",
)
@pytest.mark.parametrize("layout", ["picture_in_picture", "side_by_side"])
def test_generate_short_lecture(tmp_path: Path, layout: str) -> None:
    spec = LectureSpec(
        layout=layout,  # type: ignore[arg-type]
        topics=("graph_traversal", "water_cycle"),
        important_topic=0,
        sentences_per_topic=2,
        width=320,
        height=180,
        fps=15,
        blank_seconds=3.0,
        seed=11,
    )
    lecture = generate_lecture(spec, tmp_path / "short.mp4", cache_dir=tmp_path / "cache")
    truth = _load(lecture.video_path)
    assert truth == lecture.truth
    assert 15 <= truth["duration"] <= 45
    assert [t["title"] for t in truth["topics"]] == ["Graph Traversal", "The Water Cycle"]
    assert truth["layout"]["layout_type"] == layout
    check_timeline(truth)
    check_media(lecture.video_path, truth)
    # Cached speech makes a second run identical in timing.
    again = generate_lecture(spec, tmp_path / "again.mp4", cache_dir=tmp_path / "cache")
    assert again.truth["speech"] == truth["speech"]


def test_demo_lecture_is_found_through_the_package() -> None:
    from highlights.samples import demo_lecture_path, demo_truth_path

    assert demo_lecture_path() == COMMITTED["demo"]
    assert json.loads(demo_truth_path().read_text())["duration"] > 150


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng not installed: generating new lectures needs it (apt-get install espeak-ng)",
)
def test_generate_to_a_target_duration_cycles_topics(tmp_path: Path) -> None:
    spec = LectureSpec(
        layout="full_screen",
        topics=("sorting", "photosynthesis"),
        duration=60.0,
        sentences_per_topic=2,
        width=160,
        height=96,
        fps=10,
        blank_seconds=4.0,
    )
    lecture = generate_lecture(spec, tmp_path / "cycled.mp4", cache_dir=tmp_path / "cache")
    truth = lecture.truth
    topic_lengths = [t["end"] - t["start"] for t in truth["topics"]]
    # Whole topics only, so the result is within half a topic of the target.
    assert abs(truth["duration"] - 60.0) <= max(topic_lengths) / 2 + 1
    titles = [t["title"] for t in truth["topics"]]
    assert titles[:3] == ["Sorting Algorithms", "Photosynthesis", "Sorting Algorithms (part 2)"]
    check_timeline(truth)
    check_media(lecture.video_path, truth)
