"""Stage `silence_detection`: audio silences, blank screens and their overlap."""

from __future__ import annotations

from typing import Any

from prefect import task

from db.engine import session_scope
from db.loaders import replace_stage_rows
from db.models import SilenceRow
from highlights.silence import detect_silence
from tasks.context import StageContext, StageResult, stored_audio, stored_visual
from tasks.stage import TASK_DEFAULTS, Stage

AGENT = "energy-vs-noise-floor + blank-frame detector"
MIN_SILENCE_SECONDS = 2.0


def run(ctx: StageContext) -> StageResult:
    wav = stored_audio(ctx)
    visual = stored_visual(ctx)
    result = detect_silence(str(wav) if wav else None, visual, min_duration=MIN_SILENCE_SECONDS)
    rows = [
        SilenceRow(start_time=round(r.start, 3), end_time=round(r.end, 3),
                   duration=round(r.duration, 3), silence_type=r.silence_type,
                   amplitude_threshold=r.amplitude_threshold)
        for r in result.regions
    ]
    with session_scope(ctx.engine) as session:
        replace_stage_rows(session, ctx.job_id, SilenceRow, rows)
    counts: dict[str, int] = {}
    for r in result.regions:
        counts[r.silence_type] = counts.get(r.silence_type, 0) + 1
    return StageResult(
        agent_name=AGENT, rows=len(rows),
        metadata={"by_type": counts, "noise_floor_dbfs": result.noise_floor_dbfs,
                  "threshold_dbfs": result.threshold_dbfs, "notes": result.notes,
                  "min_duration": MIN_SILENCE_SECONDS},
    )


# After layout_analysis in the same branch: it judges blank screens on the visual samples
# that stage decodes (and the audio is quick to measure).
STAGE = Stage(
    name="silence_detection", step=1, after="layout_analysis", cost=0.002,
    timeout_per_minute=10, agent=AGENT,
    message="Finding silences and blank screens",
)


@task(name=STAGE.name, task_run_name="silence_detection [{job_id}]", **TASK_DEFAULTS)
def silence_detection_task(job_id: str, duration: float | None = None) -> dict[str, Any]:
    """Audio silences and blank screens of one job."""
    return run(StageContext(job_id)).to_dict()
