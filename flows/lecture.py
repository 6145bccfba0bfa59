"""The lecture-processing flow: one Prefect flow run per job.

    uploading ─► ┌ silence_detection ┐
                 ├ transcription     ├─► content_analysis ─► segmentation ─► compilation ─► complete
                 └ layout_analysis   ┘

Each stage is a Prefect task built for this job (`tasks.prefect_tasks`), so its state
hooks know which job's `processing_logs` to write. The flow keeps the `jobs` row
truthful: status, stage, progress, ETA, and on failure which stage failed and why.
"""

from __future__ import annotations

import shutil
from typing import Any

from prefect import flow, get_run_logger
from prefect.futures import wait
from prefect.runtime import flow_run
from sqlalchemy import select, update

from db.engine import get_engine, session_scope
from db.models import Job
from flows.jobs import BRANCH_STAGES, completed_stages, create_job, job_exists, stages_to_run
from highlights.settings import load_settings, validate_provider_keys
from tasks.errors import one_line
from tasks.prefect_tasks import StageFailed, build_stage_tasks
from tasks.progress import JobProgress, set_job_fields, utcnow


def _job_snapshot(settings: Any, job_id: str) -> dict[str, Any]:
    with session_scope(get_engine(settings)) as session:
        job = session.scalars(select(Job).where(Job.job_id == job_id)).one_or_none()
        if job is None:
            raise ValueError(f"no job with job_id={job_id!r}")
        return {"duration": job.video_duration, "metadata": dict(job.metadata_ or {}),
                "original_s3_key": job.original_s3_key, "status": job.status}


def _claim(settings: Any, job_id: str, flow_run_id: str, resume: bool) -> bool:
    """Mark the job running for this flow run; False when another run already has it.

    One conditional UPDATE, so two runs started at the same instant for the same queued
    job (an S3 event delivered twice) cannot both process it. A resumed run takes the job
    whatever its state: the caller decided to retry it.
    """
    values = {"status": "running", "celery_task_id": flow_run_id, "error_message": None,
              "completed_at": None, "progress_message": "Resuming" if resume else "Starting"}
    with session_scope(get_engine(settings)) as session:
        statement = update(Job).where(Job.job_id == job_id)
        if not resume:
            statement = statement.where(Job.status == "queued")
        return session.execute(statement.values(**values)).rowcount == 1


def _mark_failed(settings: Any, job_id: str, stage: str, message: str) -> None:
    set_job_fields(settings, job_id, status="failed", error_message=f"{stage}: {message}",
                   current_stage=stage, progress_message=f"Failed during {stage.replace('_', ' ')}",
                   eta_seconds=None, completed_at=utcnow())


@flow(name="process-lecture", flow_run_name="lecture-{job_id}", log_prints=False,
      validate_parameters=False)
def process_lecture(job_id: str | None = None, source: str | None = None,
                    bucket: str | None = None, key: str | None = None,
                    options: dict[str, Any] | None = None, resume: bool = False) -> dict[str, Any]:
    """Process one lecture. Give a `job_id` made by `create_job`, or a `source` path /
    s3:// URL (or `bucket` + `key`, as an S3 event trigger passes them) to start a new job.
    With `resume`, stages whose results are already stored are reused."""
    settings = load_settings()
    validate_provider_keys(settings)
    logger = get_run_logger()
    if source is None and bucket and key:
        source = f"s3://{bucket}/{key}"
    if job_id is None or (source and not job_exists(settings, job_id)):
        # A new job; an event-triggered run may name its id so that a duplicate delivery
        # of the same upload maps to the same job instead of a second one.
        if not source:
            raise ValueError("process-lecture needs job_id, source, or bucket and key")
        job_id = create_job(settings, source, options, job_id=job_id)
    if not _claim(settings, job_id, str(flow_run.id), resume):
        status = _job_snapshot(settings, job_id)["status"]
        logger.info("job %s is already %s: duplicate request ignored", job_id, status)
        return {"job_id": job_id, "duplicate": True, "status": status}
    snapshot = _job_snapshot(settings, job_id)
    source = source or snapshot["metadata"].get("source")
    options = {**snapshot["metadata"].get("options", {}), **(options or {})}

    done = completed_stages(settings, job_id) if resume else set()
    todo = stages_to_run(done)
    progress = JobProgress(settings, job_id, snapshot["duration"],
                           snapshot["metadata"].get("transcriber", settings.transcriber))
    for stage in done - set(todo):
        progress.mark_done(stage)
    logger.info("job %s: running stages %s", job_id, ", ".join(todo))

    stage_tasks = build_stage_tasks(settings, job_id, progress, snapshot["duration"])
    try:
        if "uploading" in todo:
            StageFailed.result("uploading", stage_tasks["uploading"].submit(
                source=source, filename=snapshot["metadata"].get("filename")))
        snapshot = _job_snapshot(settings, job_id)
        duration = float(snapshot["duration"] or 0.0)
        progress.duration = max(duration, 1.0)
        stage_tasks = build_stage_tasks(settings, job_id, progress, duration)

        branches = {stage: stage_tasks[stage].submit(duration=duration)
                    for stage in BRANCH_STAGES if stage in todo}
        wait(list(branches.values()))
        for stage, future in branches.items():  # report the first failed branch, in order
            StageFailed.check(stage, future)

        if "content_analysis" in todo:
            StageFailed.result("content_analysis",
                               stage_tasks["content_analysis"].submit(duration=duration))
        if "segmentation" in todo:
            StageFailed.result("segmentation",
                               stage_tasks["segmentation"].submit(duration=duration, options=options))
        if "compilation" in todo:
            StageFailed.result("compilation", stage_tasks["compilation"].submit(
                source_key=snapshot["original_s3_key"], duration=duration, options=options))
        summary = StageFailed.result("complete", stage_tasks["complete"].submit())
    except StageFailed as failure:
        _mark_failed(settings, job_id, failure.stage, failure.message)
        raise
    except Exception as exc:  # a failure outside any stage (settings, database)
        _mark_failed(settings, job_id, "complete" if "complete" in done else todo[0], one_line(exc))
        raise
    finally:
        # This machine's scratch (source copy, audio, renders) serves this run only, failed
        # or not; what a retry reuses is in the object store under work/{job_id}/.
        shutil.rmtree(settings.work_dir / job_id, ignore_errors=True)
    return {"job_id": job_id, **(summary or {})}
