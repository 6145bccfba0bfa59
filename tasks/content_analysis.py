"""Stage `content_analysis`: topic segments with titles, keywords and importance."""

from __future__ import annotations

from typing import Any

from prefect import task

from db.engine import session_scope
from db.loaders import load_silences, replace_stage_rows
from db.models import Clip, ContentSegment
from highlights.content import get_analyzer
from tasks.artifacts import load_slide_changes, load_slides, load_transcript
from tasks.context import StageContext, StageResult
from tasks.stage import TASK_DEFAULTS, Stage


def run(ctx: StageContext, duration: float) -> StageResult:
    transcript = load_transcript(ctx)
    with session_scope(ctx.engine) as session:
        silences = load_silences(session, ctx.job_id)
    analyzer = get_analyzer(ctx.settings)
    analysis = analyzer.analyze(transcript, slide_changes=load_slide_changes(ctx),
                                silences=silences, duration=duration,
                                slides=load_slides(ctx))
    rows = [
        ContentSegment(start_time=round(s.start, 3), end_time=round(s.end, 3),
                       duration=round(s.end - s.start, 3), topic=(s.topic or "Untitled")[:500],
                       description=s.description, importance_score=round(float(s.importance_score), 4),
                       keywords=list(s.keywords), concepts=list(s.concepts), segment_order=i)
        for i, s in enumerate(analysis.segments, start=1)
    ]
    with session_scope(ctx.engine) as session:
        # Clips point at the segments being replaced: they are rebuilt by compilation.
        replace_stage_rows(session, ctx.job_id, Clip, [])
        replace_stage_rows(session, ctx.job_id, ContentSegment, rows)
    return StageResult(
        agent_name=analysis.provider, rows=len(rows),
        metadata={"model": analysis.model, "notes": analysis.notes,
                  "analyzer_setting": ctx.settings.analyzer},
    )


STAGE = Stage(
    name="content_analysis", step=2, cost=0.002, timeout_per_minute=20,
    agent=lambda settings: "local-texttiling" if settings.analyzer == "local" else settings.analyzer,
    message="Finding topics and what matters most",
)


@task(name=STAGE.name, task_run_name="content_analysis [{job_id}]", **TASK_DEFAULTS)
def content_analysis_task(job_id: str, duration: float) -> dict[str, Any]:
    """Topic segments with titles, keywords and importance for one job."""
    return run(StageContext(job_id), duration).to_dict()
