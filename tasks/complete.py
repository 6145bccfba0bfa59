"""Stage `complete`: mark the job done and clear its scratch files."""

from __future__ import annotations

from typing import Any

from prefect import task
from sqlalchemy import func, select

from db import jobstate
from db.engine import session_scope
from db.models import Clip
from highlights.storage import job_prefixes
from tasks.context import StageContext, StageResult
from tasks.stage import TASK_DEFAULTS, Stage

AGENT = "pipeline"


def run(ctx: StageContext) -> StageResult:
    with session_scope(ctx.engine) as session:
        clips = session.scalar(select(func.count()).select_from(Clip).where(Clip.job_id == ctx.job_id))
    # Work files (shared audio, visual samples, clip plan) only serve a retry.
    removed = ctx.storage.delete_prefix(job_prefixes(ctx.job_id)[2])
    ctx.remove_work_dir()
    jobstate.mark_completed(ctx.settings, ctx.job_id, clips or 0)
    return StageResult(agent_name=AGENT, rows=clips or 0,
                       metadata={"clips": clips, "work_objects_removed": removed})


# Marking a job done is one database write: a retry would only repeat a failure.
STAGE = Stage(
    name="complete", step=5, cost=0.0002, timeout_per_minute=2, agent=AGENT,
    message="Finishing up", retries=False,
)


@task(name=STAGE.name, task_run_name="complete [{job_id}]", **TASK_DEFAULTS)
def complete_task(job_id: str) -> dict[str, Any]:
    """Mark one job completed and clear its work files."""
    return run(StageContext(job_id)).to_dict()
