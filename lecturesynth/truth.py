"""The ground truth that comes with every generated lecture, and its JSON form.

The shape is the team's contract for test fixtures (see tests/fixtures/lectures/):
duration, width, height, fps, layout, topics, slide_changes, bullet_builds, speech,
pauses, blank, transcript. A few extra keys (sample_rate, noise and speech levels,
important_cues, generator) carry what the generator knows beyond that contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lecturesynth.layout import FrameLayout
from lecturesynth.plan import LecturePlan


def _t(seconds: float) -> float:
    return round(seconds, 3)


@dataclass(frozen=True)
class Span:
    start: float
    end: float

    def to_dict(self) -> dict[str, float]:
        return {"start": _t(self.start), "end": _t(self.end)}


def speech_spans(plan: LecturePlan) -> list[tuple[Span, str, bool]]:
    sr = plan.sample_rate
    return [
        (Span(u.start_sample / sr, u.end_sample / sr), u.text, u.is_cue) for u in plan.utterances
    ]


def pause_spans(plan: LecturePlan) -> list[Span]:
    """Every stretch without speech, including lead-in, lead-out and the blank."""
    pauses: list[Span] = []
    cursor = 0.0
    for span, _, _ in speech_spans(plan):
        if span.start > cursor:
            pauses.append(Span(cursor, span.start))
        cursor = span.end
    if plan.duration > cursor:
        pauses.append(Span(cursor, plan.duration))
    return pauses


def ground_truth(
    plan: LecturePlan, layout: FrameLayout, *, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    fps = plan.fps
    speech = speech_spans(plan)
    truth: dict[str, Any] = {
        "duration": _t(plan.duration),
        "width": layout.width,
        "height": layout.height,
        "fps": fps,
        "layout": {
            "layout_type": layout.layout_type,
            "screen_region": layout.screen_region().to_dict(),
            "camera_region": layout.camera_region().to_dict(),
        },
        "topics": [
            {
                "title": t.title,
                "start": _t(t.start_frame / fps),
                "end": _t(t.end_frame / fps),
                "important": t.important,
                "keywords": list(t.script.keywords),
            }
            for t in plan.topics
        ],
        "slide_changes": [_t(f / fps) for f in plan.slide_change_frames],
        "bullet_builds": [_t(f / fps) for f in plan.bullet_build_frames],
        "speech": [{**span.to_dict(), "text": text} for span, text, _ in speech],
        "pauses": [p.to_dict() for p in pause_spans(plan)],
        "blank": (
            Span(plan.blank_frames[0] / fps, plan.blank_frames[1] / fps).to_dict()
            if plan.blank_frames
            else None
        ),
        "transcript": " ".join(text for _, text, _ in speech),
        "important_cues": [{**span.to_dict(), "text": text} for span, text, cue in speech if cue],
        "sample_rate": plan.sample_rate,
    }
    truth.update(extra or {})
    return truth


def write_truth(truth: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load_truth(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
