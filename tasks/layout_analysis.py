"""Stage `layout_analysis`: where the slides and the presenter are, when slides change,
and what each distinct slide says.

It starts with the recording's one decode of the picture (the low-rate visual samples),
here rather than in `uploading`, so that transcription starts as soon as the audio is
extracted; the samples are stored for `silence_detection`, which follows in this branch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from prefect import task
from sqlalchemy import select

from db.engine import session_scope
from db.loaders import replace_stage_rows
from db.models import Job, LayoutAnalysis
from highlights.frame_stats import blank_mask, screen_unchanged
from highlights.layout import analyze_layout
from highlights.slide_text import KeyFrames, SlideDeck, read_deck
from highlights.types import LayoutResult
from highlights.visual import VisualSamples, visual_pass
from tasks.context import SLIDES_JSON, VISUAL_DIR, StageContext, StageResult
from tasks.stage import TASK_DEFAULTS, Stage


def run(ctx: StageContext) -> StageResult:
    timings: dict[str, float] = {}
    mark = time.monotonic()
    recording = _Recording.of(ctx)
    visual = _sample_picture(ctx, recording)
    timings["visual"] = time.monotonic() - mark
    mark = time.monotonic()
    layout, slide_changes = analyze_layout(visual)
    row = LayoutAnalysis(
        screen_region=layout.screen_region.to_dict(), camera_region=layout.camera_region.to_dict(),
        split_ratio=round(layout.split_ratio, 4), layout_type=layout.layout_type,
        confidence_score=round(layout.confidence_score, 4),
        sample_frame_time=None if layout.sample_frame_time is None else round(layout.sample_frame_time, 3),
    )
    notes = [] if visual is not None else ["no video stream: default full-screen layout"]
    timings["layout"] = time.monotonic() - mark
    mark = time.monotonic()
    deck = _read_slides(ctx, recording, visual, layout, slide_changes, notes)
    timings["slide_text"] = time.monotonic() - mark
    ctx.put_json(ctx.result_key(SLIDES_JSON), {
        "slide_changes": [round(t, 3) for t in slide_changes],
        "slides": [s.to_dict() for s in deck.slides] if deck else [],
    })
    with session_scope(ctx.engine) as session:
        replace_stage_rows(session, ctx.job_id, LayoutAnalysis, [row])
    return StageResult(
        agent_name=layout.detector, rows=1,
        metadata={"layout_type": layout.layout_type, "confidence": round(layout.confidence_score, 3),
                  "slide_changes": len(slide_changes), "notes": notes,
                  "slide_text": deck.summary() if deck else None,
                  "timings": {k: round(v, 3) for k, v in timings.items()}},
    )


@dataclass(frozen=True)
class _Recording:
    """What the job row says of the stored recording."""

    key: str
    duration: float
    has_video: bool

    @classmethod
    def of(cls, ctx: StageContext) -> _Recording:
        with session_scope(ctx.engine) as session:
            job = session.scalars(select(Job).where(Job.job_id == ctx.job_id)).one()
            return cls(job.original_s3_key, float(job.video_duration or 0.0),
                       bool((job.video_metadata or {}).get("has_video", True)))

    def local(self, ctx: StageContext) -> Path:
        """The recording on this machine (fetched once per job and machine)."""
        return ctx.fetch(self.key, "source" + Path(self.key).suffix)


def _sample_picture(ctx: StageContext, recording: _Recording) -> VisualSamples | None:
    """The low-rate visual samples every visual analysis shares, decoded once and stored
    for the stages after this one (and for a retry); None without a decodable picture."""
    ctx.storage.delete_prefix(ctx.work_key(VISUAL_DIR) + "/")
    if not recording.has_video:
        return None
    folder = ctx.scratch(VISUAL_DIR)
    visual = visual_pass(recording.local(ctx), folder)
    if visual is not None:
        ctx.put_folder(folder, ctx.work_key(VISUAL_DIR))
    return visual


def _read_slides(ctx: StageContext, recording: _Recording, visual: VisualSamples | None,
                 layout: LayoutResult, slide_changes: list[float],
                 notes: list[str]) -> SlideDeck | None:
    """OCR each distinct slide once; None (with a note) when there are no slides to read."""
    if not ctx.settings.read_slides:
        notes.append("slide text: off (HIGHLIGHTS_SLIDE_TEXT=off): topic titles from the speech")
        return None
    if visual is None:
        notes.append("slide text: skipped, the recording has no video")
        return None
    if layout.screen_region.is_empty:
        notes.append("slide text: skipped, no screen region (camera only)")
        return None
    duration = recording.duration
    if not duration and visual.count:
        duration = float(visual.times[-1])
    blank = blank_mask(visual, layout.screen_region, layout.camera_region)

    def not_blank(t: float) -> bool:
        i = int(np.clip(np.searchsorted(visual.times, t), 0, max(visual.count - 1, 0)))
        return not bool(blank[i]) if visual.count else True

    if visual.count and blank.mean() > 0.95:
        notes.append("slide text: skipped, the screen is blank")
        return None
    # slides are read at a key frame where the screen shows the same picture there
    key_frames = KeyFrames(
        visual.intra_times, screen_unchanged(visual, layout.screen_region, layout.camera_region),
        sample_times=visual.times,
    )
    deck = read_deck(recording.local(ctx), slide_changes, duration, layout.screen_region,
                     layout.camera_region, not_blank=not_blank, key_frames=key_frames)
    notes.extend(deck.notes)
    if deck.slides and not any(s.title for s in deck.slides):
        notes.append("slide text: no slide titles found (little text on the slides)")
    return deck


# The visual decode, layout and slide reading: 0.004 s per second of lecture for the
# layout alone, plus the decode that used to sit in uploading.
STAGE = Stage(
    name="layout_analysis", step=1, cost=0.024, timeout_per_minute=40, agent="motion+haar",
    message="Sampling the video, detecting screen and camera layout, reading the slides",
)


@task(name=STAGE.name, task_run_name="layout_analysis [{job_id}]", **TASK_DEFAULTS)
def layout_analysis_task(job_id: str, duration: float | None = None) -> dict[str, Any]:
    """Screen and camera regions, slide changes and slide text of one job."""
    return run(StageContext(job_id)).to_dict()
