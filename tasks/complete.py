"""Stage `complete`: mark the job done and clear its scratch files."""

from __future__ import annotations

from sqlalchemy import func, select

from db.engine import session_scope
from db.models import Clip
from highlights.storage import job_prefixes
from tasks.context import StageContext, StageResult
from tasks.progress import set_job_fields, utcnow

AGENT = "pipeline"


def run(ctx: StageContext) -> StageResult:
    with session_scope(ctx.engine) as session:
        clips = session.scalar(select(func.count()).select_from(Clip).where(Clip.job_id == ctx.job_id))
    # Work files (shared audio, visual samples, clip plan) only serve a retry.
    removed = ctx.storage.delete_prefix(job_prefixes(ctx.job_id)[2])
    ctx.remove_work_dir()
    set_job_fields(ctx.settings, ctx.job_id, status="completed", current_stage="complete",
                   progress_percent=100.0, eta_seconds=0, error_message=None,
                   progress_message=f"Done: {clips} clip{'s' if clips != 1 else ''}",
                   completed_at=utcnow())
    return StageResult(agent_name=AGENT, rows=clips or 0,
                       metadata={"clips": clips, "work_objects_removed": removed})
