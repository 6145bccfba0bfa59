"""Stage `content_analysis`: topic segments with titles, keywords and importance."""

from __future__ import annotations

from sqlalchemy import select

from db.engine import session_scope
from db.models import Clip, ContentSegment
from db.models import SilenceRegion as SilenceRow
from db.queries import replace_stage_rows
from highlights.content import get_analyzer
from highlights.types import SilenceRegion, Slide
from tasks.context import SLIDES_JSON, StageContext, StageResult
from tasks.transcription import load_transcript


def load_silences(ctx: StageContext) -> list[SilenceRegion]:
    with session_scope(ctx.engine) as session:
        rows = session.scalars(
            select(SilenceRow).where(SilenceRow.job_id == ctx.job_id).order_by(SilenceRow.start_time)
        ).all()
        return [SilenceRegion(r.start_time, r.end_time, r.silence_type, r.amplitude_threshold)  # type: ignore[arg-type]
                for r in rows]


def load_slide_changes(ctx: StageContext) -> list[float]:
    key = ctx.result_key(SLIDES_JSON)
    if not ctx.storage.exists(key):
        return []
    return [float(t) for t in ctx.get_json(key).get("slide_changes", [])]


def load_slides(ctx: StageContext) -> list[Slide]:
    """The distinct slides the layout stage read, with their text (none when unread)."""
    key = ctx.result_key(SLIDES_JSON)
    if not ctx.storage.exists(key):
        return []
    return [Slide.from_dict(item) for item in ctx.get_json(key).get("slides", [])]


def run(ctx: StageContext, duration: float) -> StageResult:
    transcript = load_transcript(ctx)
    analyzer = get_analyzer(ctx.settings)
    analysis = analyzer.analyze(transcript, slide_changes=load_slide_changes(ctx),
                                silences=load_silences(ctx), duration=duration,
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
