"""Stage `layout_analysis`: where the slides and the presenter are, and when slides change."""

from __future__ import annotations

from db.engine import session_scope
from db.models import LayoutAnalysis
from db.queries import replace_stage_rows
from highlights.layout import analyze_layout
from tasks.context import SLIDES_JSON, StageContext, StageResult, stored_visual


def run(ctx: StageContext) -> StageResult:
    visual = stored_visual(ctx)
    layout, slide_changes = analyze_layout(visual)
    row = LayoutAnalysis(
        screen_region=layout.screen_region.to_dict(), camera_region=layout.camera_region.to_dict(),
        split_ratio=round(layout.split_ratio, 4), layout_type=layout.layout_type,
        confidence_score=round(layout.confidence_score, 4),
        sample_frame_time=None if layout.sample_frame_time is None else round(layout.sample_frame_time, 3),
    )
    ctx.put_json(ctx.result_key(SLIDES_JSON), {"slide_changes": [round(t, 3) for t in slide_changes]})
    with session_scope(ctx.engine) as session:
        replace_stage_rows(session, ctx.job_id, LayoutAnalysis, [row])
    notes = [] if visual is not None else ["no video stream: default full-screen layout"]
    return StageResult(
        agent_name=layout.detector, rows=1,
        metadata={"layout_type": layout.layout_type, "confidence": round(layout.confidence_score, 3),
                  "slide_changes": len(slide_changes), "notes": notes},
    )
