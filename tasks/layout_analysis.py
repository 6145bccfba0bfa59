"""Stage `layout_analysis`: where the slides and the presenter are, when slides change,
and what each distinct slide says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from prefect import task
from sqlalchemy import select

from db.engine import session_scope
from db.loaders import replace_stage_rows
from db.models import Job, LayoutAnalysis
from highlights.frame_stats import blank_mask
from highlights.layout import analyze_layout
from highlights.slide_text import SlideDeck, read_deck
from highlights.types import LayoutResult
from highlights.visual import VisualSamples
from tasks.context import SLIDES_JSON, StageContext, StageResult, stored_visual
from tasks.stage import TASK_DEFAULTS, Stage


def run(ctx: StageContext) -> StageResult:
    visual = stored_visual(ctx)
    layout, slide_changes = analyze_layout(visual)
    row = LayoutAnalysis(
        screen_region=layout.screen_region.to_dict(), camera_region=layout.camera_region.to_dict(),
        split_ratio=round(layout.split_ratio, 4), layout_type=layout.layout_type,
        confidence_score=round(layout.confidence_score, 4),
        sample_frame_time=None if layout.sample_frame_time is None else round(layout.sample_frame_time, 3),
    )
    notes = [] if visual is not None else ["no video stream: default full-screen layout"]
    deck = _read_slides(ctx, visual, layout, slide_changes, notes)
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
                  "slide_text": deck.summary() if deck else None},
    )


def _read_slides(ctx: StageContext, visual: VisualSamples | None, layout: LayoutResult,
                 slide_changes: list[float], notes: list[str]) -> SlideDeck | None:
    """OCR each distinct slide once; None (with a note) when there are no slides to read."""
    if visual is None:
        notes.append("slide text: skipped, the recording has no video")
        return None
    if layout.screen_region.is_empty:
        notes.append("slide text: skipped, no screen region (camera only)")
        return None
    with session_scope(ctx.engine) as session:
        job = session.scalars(select(Job).where(Job.job_id == ctx.job_id)).one()
        source_key, duration = job.original_s3_key, float(job.video_duration or 0.0)
    if not duration and visual.count:
        duration = float(visual.times[-1])
    blank = blank_mask(visual, layout.screen_region, layout.camera_region)

    def not_blank(t: float) -> bool:
        i = int(np.clip(np.searchsorted(visual.times, t), 0, max(visual.count - 1, 0)))
        return not bool(blank[i]) if visual.count else True

    if visual.count and blank.mean() > 0.95:
        notes.append("slide text: skipped, the screen is blank")
        return None
    source = ctx.fetch(source_key, "source" + Path(source_key).suffix)
    deck = read_deck(source, slide_changes, duration, layout.screen_region,
                     layout.camera_region, not_blank=not_blank)
    notes.extend(deck.notes)
    if deck.slides and not any(s.title for s in deck.slides):
        notes.append("slide text: no slide titles found (little text on the slides)")
    return deck


STAGE = Stage(
    name="layout_analysis", step=1, cost=0.004, timeout_per_minute=20, agent="motion+haar",
    message="Detecting screen and camera layout, slide changes",
)


@task(name=STAGE.name, task_run_name="layout_analysis [{job_id}]", **TASK_DEFAULTS)
def layout_analysis_task(job_id: str, duration: float | None = None) -> dict[str, Any]:
    """Screen and camera regions, slide changes and slide text of one job."""
    return run(StageContext(job_id)).to_dict()
