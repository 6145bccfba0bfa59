"""Stage `segmentation`: choose the highlight clips from the topic segments."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from db.engine import session_scope
from db.models import ContentSegment
from highlights.audio import open_pcm16
from highlights.selection import SelectionOptions, select_clips
from highlights.silence import speech_gaps
from highlights.types import ContentAnalysis, TopicSegment
from tasks.content_analysis import load_silences
from tasks.context import CLIP_PLAN_JSON, StageContext, StageResult, stored_audio
from tasks.transcription import load_transcript

AGENT = "sentence-border selector"


def load_analysis(ctx: StageContext) -> tuple[ContentAnalysis, list[str]]:
    """The stored topic segments as the core's type, with their row ids in the same order."""
    with session_scope(ctx.engine) as session:
        rows = session.scalars(select(ContentSegment).where(ContentSegment.job_id == ctx.job_id)
                               .order_by(ContentSegment.segment_order)).all()
        segments = [TopicSegment(r.start_time, r.end_time, r.topic, r.description,
                                 r.importance_score, list(r.keywords or []), list(r.concepts or []))
                    for r in rows]
        return ContentAnalysis(segments=segments, provider="stored"), [r.segment_id for r in rows]


def load_speech_gaps(ctx: StageContext) -> list[tuple[float, float]]:
    """Short pauses in the job's audio (0.25 s and up): where voices really start."""
    wav = stored_audio(ctx)
    if wav is None:
        return []
    samples, rate = open_pcm16(wav)
    return speech_gaps(samples, rate, min_gap=0.25)


def run(ctx: StageContext, duration: float, options: dict[str, Any]) -> StageResult:
    analysis, segment_ids = load_analysis(ctx)
    transcript = load_transcript(ctx)
    selection = SelectionOptions(
        count=int(options.get("clips", ctx.settings.clip_count)),
        min_seconds=float(options.get("min_len", ctx.settings.clip_min_seconds)),
        max_seconds=float(options.get("max_len", ctx.settings.clip_max_seconds)),
        overrun_seconds=ctx.settings.clip_overrun_seconds,
    )
    plans = select_clips(analysis, transcript, load_silences(ctx), duration, selection,
                         pauses=load_speech_gaps(ctx))
    ctx.put_json(ctx.work_key(CLIP_PLAN_JSON), {
        "options": asdict(selection),
        "plans": [{**asdict(p), "segment_id": segment_ids[p.segment_index]
                   if 0 <= p.segment_index < len(segment_ids) else None} for p in plans],
    })
    notes = [] if plans else ["no clip could be chosen: the lecture has no usable speech segments"]
    return StageResult(agent_name=AGENT, rows=len(plans),
                       metadata={"clips_planned": len(plans), "options": asdict(selection), "notes": notes})
