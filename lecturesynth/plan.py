"""Lay a lecture out in time: every utterance, pause, slide, bullet and the blank.

All placement happens here, in integer samples (audio) and integer frames (video), so
the ground truth is exact by construction: speech times come from where each trimmed
utterance is written into the soundtrack, and every visual change is a frame index
chosen inside a pause, so a slide never changes in the middle of a sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lecturesynth.errors import SynthError
from lecturesynth.scripts import IMPORTANCE_CUES, TOPICS, TopicScript


@dataclass(frozen=True)
class ScreenState:
    topic: int  # index into LecturePlan.topics
    slide: int  # index into that topic's slides
    bullets: int  # how many bullets are visible
    number: int  # slide number shown in the footer, 1-based over the lecture


@dataclass(frozen=True)
class ScreenEvent:
    frame: int
    state: ScreenState | None  # None: the screen goes black


@dataclass
class PlannedTopic:
    script: TopicScript
    title: str
    important: bool
    accent: int
    start_frame: int = 0
    end_frame: int = 0


@dataclass(frozen=True)
class PlannedUtterance:
    text: str
    topic: int
    start_sample: int
    audio: np.ndarray
    is_cue: bool

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.audio)


@dataclass
class LecturePlan:
    fps: float
    sample_rate: int
    topics: list[PlannedTopic]
    utterances: list[PlannedUtterance] = field(default_factory=list)
    screen_events: list[ScreenEvent] = field(default_factory=list)
    slide_change_frames: list[int] = field(default_factory=list)
    bullet_build_frames: list[int] = field(default_factory=list)
    blank_frames: tuple[int, int] | None = None
    total_frames: int = 0

    @property
    def duration(self) -> float:
        return self.total_frames / self.fps

    @property
    def total_samples(self) -> int:
        return int(round(self.duration * self.sample_rate))


@dataclass(frozen=True)
class PauseStyle:
    """Pause lengths in seconds, drawn uniformly from each range."""

    lead_in: tuple[float, float] = (1.5, 2.5)
    lead_out: tuple[float, float] = (2.0, 3.0)
    short: tuple[float, float] = (0.3, 0.8)
    medium: tuple[float, float] = (0.9, 1.5)
    medium_share: float = 0.2
    before_bullet: tuple[float, float] = (0.8, 1.4)
    before_slide: tuple[float, float] = (1.6, 3.0)
    between_topics: tuple[float, float] = (2.6, 4.0)
    thinking: tuple[float, float] = (2.6, 3.4)  # one real pause inside each topic
    around_blank: tuple[float, float] = (1.0, 1.5)


@dataclass(frozen=True)
class _Unit:
    slide: int
    bullet: int
    text: str
    is_cue: bool


def _units(script: TopicScript, important: bool, limit: int | None) -> list[_Unit]:
    units = [
        _Unit(si, bi, sentence, False)
        for si, slide in enumerate(script.slides)
        for bi, bullet in enumerate(slide.bullets)
        for sentence in bullet.sentences
    ][:limit]
    if important:
        # A cue is said right after a sentence, while that sentence's bullet is showing.
        n = len(units)
        after = sorted({0, n // 2, max(n - 2, 0)}, reverse=True)
        for cue, k in zip(reversed(IMPORTANCE_CUES[: len(after)]), after, strict=False):
            units.insert(k + 1, _Unit(units[k].slide, units[k].bullet, cue, True))
    return units


def _library_index(script: TopicScript) -> int:
    keys = [t.key for t in TOPICS]
    return keys.index(script.key) if script.key in keys else len(keys)


class _Planner:
    def __init__(self, fps: float, sample_rate: int, style: PauseStyle, seed: int) -> None:
        self.fps, self.sr, self.style = fps, sample_rate, style
        self.rng = np.random.default_rng(seed)

    def seconds(self, span: tuple[float, float]) -> float:
        return float(self.rng.uniform(*span))

    def samples(self, seconds: float) -> int:
        return int(round(seconds * self.sr))

    def frame_inside(self, start_sample: int, end_sample: int, fraction: float) -> int:
        """A frame whose time lies strictly inside the pause [start, end]."""
        a, b = start_sample / self.sr, end_sample / self.sr
        lo, hi = math.floor(a * self.fps) + 1, math.ceil(b * self.fps) - 1
        if lo > hi:
            raise SynthError(f"a {b - a:.2f} s pause holds no frame at {self.fps:g} fps: raise fps")
        return min(max(int(round((a + fraction * (b - a)) * self.fps)), lo), hi)


def plan_lecture(
    topics: Sequence[tuple[TopicScript, str, bool]],
    synthesize: Callable[[str], np.ndarray],
    *,
    fps: float,
    sample_rate: int,
    seed: int,
    blank_after_topic: int | None,
    blank_seconds: float,
    style: PauseStyle | None = None,
    sentences_per_topic: int | None = None,
) -> LecturePlan:
    """Place `topics` (script, title shown, important) in time.

    `blank_after_topic` is the index of the topic after which the screen goes black for
    `blank_seconds` with no speech (None: no blank section). `sentences_per_topic`
    keeps only the first sentences of each topic (short lectures for tests).
    """
    if not topics:
        raise SynthError("a lecture needs at least one topic")
    p = _Planner(fps, sample_rate, style or PauseStyle(), seed)
    s = p.style
    plan = LecturePlan(
        fps=fps,
        sample_rate=sample_rate,
        topics=[
            # A topic keeps its colour across lectures; a repeat shifts it so that two
            # neighbouring topics never share one.
            PlannedTopic(script, title, important, accent=_library_index(script) + i // len(TOPICS))
            for i, (script, title, important) in enumerate(topics)
        ],
    )
    cursor = 0  # end of the last utterance, in samples
    slide_number = 0

    def show_slide(frame: int, ti: int, si: int) -> None:
        nonlocal slide_number
        slide_number += 1
        slide = plan.topics[ti].script.slides[si]
        shown = 1 if slide.builds else len(slide.bullets)
        plan.screen_events.append(ScreenEvent(frame, ScreenState(ti, si, shown, slide_number)))
        if frame > 0:
            plan.slide_change_frames.append(frame)

    for ti, topic in enumerate(plan.topics):
        units = _units(topic.script, topic.important, sentences_per_topic)
        quiet = [
            k
            for k in range(1, len(units))
            if units[k].slide == units[k - 1].slide and units[k].bullet == units[k - 1].bullet
        ]
        thinking_at = int(p.rng.choice(quiet)) if quiet else -1
        state: ScreenState | None = None
        for k, unit in enumerate(units):
            if k == 0 and ti == 0:
                show_slide(0, ti, 0)
                start = p.samples(p.seconds(s.lead_in))
            elif k == 0 and blank_after_topic == ti - 1:
                blank_start = int(math.ceil((cursor / p.sr + p.seconds(s.around_blank)) * fps))
                blank_end = blank_start + int(round(blank_seconds * fps))
                plan.screen_events.append(ScreenEvent(blank_start, None))
                plan.blank_frames = (blank_start, blank_end)
                plan.topics[ti - 1].end_frame = blank_start
                show_slide(blank_end, ti, 0)
                start = p.samples(blank_end / fps + p.seconds(s.around_blank))
            elif k == 0:
                start = cursor + p.samples(p.seconds(s.between_topics))
                frame = p.frame_inside(cursor, start, 0.4)
                plan.topics[ti - 1].end_frame = frame
                show_slide(frame, ti, 0)
            elif unit.slide != units[k - 1].slide:
                start = cursor + p.samples(p.seconds(s.before_slide))
                show_slide(p.frame_inside(cursor, start, 0.45), ti, unit.slide)
            elif unit.bullet != units[k - 1].bullet and topic.script.slides[unit.slide].builds:
                start = cursor + p.samples(p.seconds(s.before_bullet))
                frame = p.frame_inside(cursor, start, 0.5)
                assert state is not None
                state = ScreenState(ti, unit.slide, unit.bullet + 1, state.number)
                plan.screen_events.append(ScreenEvent(frame, state))
                plan.bullet_build_frames.append(frame)
            elif k == thinking_at:
                start = cursor + p.samples(p.seconds(s.thinking))
            elif p.rng.random() < s.medium_share:
                start = cursor + p.samples(p.seconds(s.medium))
            else:
                start = cursor + p.samples(p.seconds(s.short))
            if k == 0:
                topic.start_frame = plan.screen_events[-1].frame
            state = plan.screen_events[-1].state
            audio = synthesize(unit.text)
            plan.utterances.append(PlannedUtterance(unit.text, ti, start, audio, unit.is_cue))
            cursor = start + len(audio)

    end_seconds = cursor / p.sr + p.seconds(s.lead_out)
    plan.total_frames = int(math.ceil(end_seconds * fps))
    plan.topics[-1].end_frame = plan.total_frames
    return plan
