"""Generate a synthetic lecture recording (MP4) with exact ground truth (JSON)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from lecturesynth.audio import PlacedUtterance, RoomNoise, write_soundtrack
from lecturesynth.camera import PresenterCamera
from lecturesynth.errors import SynthError
from lecturesynth.layout import FrameLayout, SynthLayout, make_layout
from lecturesynth.plan import LecturePlan, plan_lecture
from lecturesynth.scripts import TOPICS, TOPICS_BY_KEY, TopicScript
from lecturesynth.slides import render_slide
from lecturesynth.speech import SpeechSynthesizer, Voice
from lecturesynth.truth import ground_truth, write_truth
from lecturesynth.video import I420Frame, VideoEncoder


@dataclass(frozen=True)
class LectureSpec:
    """What to generate. Topics are keys of `scripts.TOPICS_BY_KEY`.

    With `duration` set, the topic list is cycled until the lecture reaches about that
    many seconds (topics are never cut, so the result may be a little longer); without
    it, each listed topic is read once.
    """

    layout: SynthLayout = "side_by_side"
    topics: tuple[str, ...] = ("hash_tables", "binary_search_trees", "sorting", "graph_traversal")
    important_topic: int | None = 1  # index into the lecture's topic sequence
    duration: float | None = None
    width: int = 1280
    height: int = 720
    fps: float = 25.0
    sample_rate: int = 44100
    blank_seconds: float = 8.0  # 0 for no blank section
    sentences_per_topic: int | None = None  # keep only the first N sentences of each topic
    # Each topic's slides (and what is said over them) read this many times in a row: a
    # topic of several minutes, as real lectures have, from the short scripted topics.
    topic_repeats: int = 1
    seed: int = 0
    voice: Voice = field(default_factory=Voice)
    room: RoomNoise = field(default_factory=RoomNoise)
    crf: int = 30
    max_video_kbps: int = 400
    audio_kbps: int = 64
    preset: str = "veryfast"


@dataclass(frozen=True)
class GeneratedLecture:
    video_path: Path
    truth_path: Path
    truth: dict[str, Any]

    @property
    def duration(self) -> float:
        return float(self.truth["duration"])


def _library(spec: LectureSpec) -> list[TopicScript]:
    keys = spec.topics or tuple(t.key for t in TOPICS)
    unknown = [k for k in keys if k not in TOPICS_BY_KEY]
    if unknown:
        raise SynthError(
            f"unknown topic(s) {', '.join(unknown)}: choose from {', '.join(TOPICS_BY_KEY)}"
        )
    return [TOPICS_BY_KEY[k] for k in keys]


def _topic_sequence(
    spec: LectureSpec, scripts: list[TopicScript], count: int
) -> list[tuple[TopicScript, str, bool]]:
    """The first `count` topics of the cycled library, repeats titled "(part N)"."""
    sequence = []
    for i in range(count):
        script = scripts[i % len(scripts)]
        if spec.topic_repeats > 1:
            script = replace(script, slides=script.slides * spec.topic_repeats)
        repeat = i // len(scripts)
        title = script.title if repeat == 0 else f"{script.title} (part {repeat + 1})"
        sequence.append((script, title, i == spec.important_topic))
    return sequence


def _plan(
    spec: LectureSpec,
    scripts: list[TopicScript],
    count: int,
    synthesize: Callable[[str], np.ndarray],
) -> LecturePlan:
    return plan_lecture(
        _topic_sequence(spec, scripts, count),
        synthesize,
        fps=spec.fps,
        sample_rate=spec.sample_rate,
        seed=spec.seed,
        blank_after_topic=(count - 1) // 2 if spec.blank_seconds > 0 and count >= 2 else None,
        blank_seconds=spec.blank_seconds,
        sentences_per_topic=spec.sentences_per_topic,
    )


def _plan_for_duration(
    spec: LectureSpec, scripts: list[TopicScript], synthesize: Callable[[str], np.ndarray]
) -> LecturePlan:
    """Plan whole topics, cycling the list, so the length lands closest to the target.

    Planning is cheap next to rendering, so the real planner is run for neighbouring
    topic counts instead of trusting an estimate.
    """
    assert spec.duration is not None
    typical = np.mean([_plan(spec, [s], 1, synthesize).duration for s in scripts])
    count = max(1, int(spec.duration // typical))
    plan = _plan(spec, scripts, count, synthesize)
    while plan.duration < spec.duration:
        count += 1
        plan = _plan(spec, scripts, count, synthesize)
    while count > 1:
        shorter = _plan(spec, scripts, count - 1, synthesize)
        if abs(shorter.duration - spec.duration) > abs(plan.duration - spec.duration):
            break
        count, plan = count - 1, shorter
    return plan


def _screen_image(plan: LecturePlan, layout: FrameLayout, state) -> np.ndarray:
    topic = plan.topics[state.topic]
    slide = topic.script.slides[state.slide]
    screen = render_slide(
        slide,
        state.bullets,
        topic.title,
        state.number,
        topic.accent,
        (layout.screen.width, layout.screen.height),
        topic.script.keywords,
    )
    canvas = np.zeros((layout.height, layout.width, 3), dtype=np.uint8)
    r = layout.screen
    canvas[r.y : r.y + r.height, r.x : r.x + r.width] = screen
    return canvas


def _write_video(
    plan: LecturePlan,
    layout: FrameLayout,
    spec: LectureSpec,
    audio_path: Path,
    out_path: Path,
    progress: Callable[[float], None] | None,
) -> None:
    camera = (
        PresenterCamera(layout.camera.width, layout.camera.height, spec.fps, spec.seed)
        if layout.camera
        else None
    )
    frame = I420Frame(layout.width, layout.height)
    encoder = VideoEncoder(
        out_path,
        layout.width,
        layout.height,
        spec.fps,
        audio_path,
        crf=spec.crf,
        max_video_kbps=spec.max_video_kbps,
        audio_kbps=spec.audio_kbps,
        preset=spec.preset,
    )
    events = iter(plan.screen_events)
    upcoming = next(events, None)
    state = None
    try:
        for index in range(plan.total_frames):
            while upcoming is not None and upcoming.frame <= index:
                state = upcoming.state
                if state is None:
                    frame.y[:] = 16  # black in limited-range BT.601
                    frame.u[:] = 128
                    frame.v[:] = 128
                else:
                    frame.fill_bgr(_screen_image(plan, layout, state))
                upcoming = next(events, None)
            if camera is not None and state is not None:
                frame.paste_bgr(camera.frame(index), layout.camera)
            encoder.write(frame)
            if progress and index % 500 == 0:
                progress(index / plan.total_frames)
        encoder.close()
    except BaseException:
        encoder.abort()
        raise
    if progress:
        progress(1.0)


def _check_important(spec: LectureSpec, count: int) -> None:
    if spec.important_topic is not None and not 0 <= spec.important_topic < count:
        raise SynthError(
            f"important_topic {spec.important_topic} is out of range for {count} topics"
        )


def generate_lecture(
    spec: LectureSpec,
    out_path: str | Path,
    *,
    cache_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> GeneratedLecture:
    """Write `out_path` (MP4) and the ground truth beside it (same name, .json)."""
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".mp4":
        raise SynthError(f"output must be an .mp4 path, got {out_path.name}")
    if spec.sentences_per_topic is not None and spec.sentences_per_topic < 1:
        raise SynthError("sentences_per_topic must be at least 1")
    if spec.fps < 5 or spec.fps > 60:
        raise SynthError(f"fps must be between 5 and 60, got {spec.fps:g}")
    layout = make_layout(spec.layout, spec.width, spec.height)
    synth = SpeechSynthesizer(spec.voice, spec.sample_rate, cache_dir)
    memo: dict[str, np.ndarray] = {}

    def synthesize(text: str) -> np.ndarray:
        if text not in memo:
            memo[text] = synth.synthesize(text)
        return memo[text]

    scripts = _library(spec)
    if spec.duration is None:
        _check_important(spec, len(scripts))
        plan = _plan(spec, scripts, len(scripts), synthesize)
    else:
        plan = _plan_for_duration(spec, scripts, synthesize)
        _check_important(spec, len(plan.topics))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".synth-") as tmp:
        audio_path = Path(tmp) / "narration.wav"
        write_soundtrack(
            audio_path,
            plan.total_samples,
            spec.sample_rate,
            [PlacedUtterance(u.start_sample, u.audio) for u in plan.utterances],
            spec.room,
        )
        _write_video(plan, layout, spec, audio_path, out_path, progress)
    truth = ground_truth(
        plan,
        layout,
        extra={
            "noise_floor_dbfs": round(spec.room.floor_dbfs, 1),
            "speech_rms_dbfs": spec.voice.speech_rms_dbfs,
            "generator": {
                "seed": spec.seed,
                "voice": spec.voice.name,
                "words_per_minute": spec.voice.words_per_minute,
            },
        },
    )
    truth_path = out_path.with_suffix(".json")
    write_truth(truth, truth_path)
    return GeneratedLecture(out_path, truth_path, truth)


def topic_keys() -> Sequence[str]:
    return tuple(TOPICS_BY_KEY)
