"""Stage `segmentation`: choose the highlight clips from the topic segments."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import task

from db.engine import session_scope
from db.loaders import load_silences, load_topics
from highlights.selection import SelectionOptions, fit_to_lecture, select_clips
from tasks.artifacts import load_speech_gaps, load_transcript
from tasks.context import CLIP_PLAN_JSON, StageContext, StageResult
from tasks.stage import TASK_DEFAULTS, Stage

AGENT = "sentence-border selector"


def run(ctx: StageContext, duration: float, options: dict[str, Any]) -> StageResult:
    with session_scope(ctx.engine) as session:
        analysis, segment_ids = load_topics(session, ctx.job_id)
        silences = load_silences(session, ctx.job_id)
    transcript = load_transcript(ctx)
    selection, fitted_note = fit_to_lecture(
        SelectionOptions(
            count=int(options.get("clips", ctx.settings.clip_count)),
            min_seconds=float(options.get("min_len", ctx.settings.clip_min_seconds)),
            max_seconds=float(options.get("max_len", ctx.settings.clip_max_seconds)),
            overrun_seconds=ctx.settings.clip_overrun_seconds,
        ),
        duration,
        ctx.settings.clip_share,
        count_chosen="clips" in options or ctx.settings.clip_count_chosen,
        length_chosen="max_len" in options or ctx.settings.clip_max_chosen,
    )
    plans = select_clips(analysis, transcript, silences, duration, selection,
                         pauses=load_speech_gaps(ctx))
    ctx.put_json(ctx.work_key(CLIP_PLAN_JSON), {
        "options": asdict(selection),
        "plans": [{**asdict(p), "segment_id": segment_ids[p.segment_index]
                   if 0 <= p.segment_index < len(segment_ids) else None} for p in plans],
    })
    notes = [fitted_note] if fitted_note else []
    if not plans:
        notes.append("no clip could be chosen: the lecture has no usable speech segments")
    return StageResult(agent_name=AGENT, rows=len(plans),
                       metadata={"clips_planned": len(plans), "options": asdict(selection), "notes": notes})


STAGE = Stage(
    name="segmentation", step=3, cost=0.0005, timeout_per_minute=5, agent=AGENT,
    message="Choosing highlight clips",
)


@task(name=STAGE.name, task_run_name="segmentation [{job_id}]", **TASK_DEFAULTS)
def segmentation_task(job_id: str, duration: float, options: dict[str, Any]) -> dict[str, Any]:
    """The clip plan of one job: which windows become clips."""
    return run(StageContext(job_id), duration, options).to_dict()
