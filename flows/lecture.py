"""The lecture-processing flow: one Prefect flow run per job.

    uploading ─► ┌ silence_detection ┐
                 ├ transcription     ├─► content_analysis ─► segmentation ─► compilation ─► complete
                 └ layout_analysis   ┘

Each stage is a module-level Prefect task taking the job id (`tasks/<stage>.py`),
configured for this run by `flows.stages.PipelineRun` with the hooks that write its
`processing_logs` rows. Sequential stages are called directly; the three analysis
branches are submitted together. The flow keeps the `jobs` row truthful: status, stage,
progress, ETA, and on failure which stage failed and why.
"""

from __future__ import annotations

import shutil
from typing import Any

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run
from sqlalchemy import select

from db import jobstate
from db.engine import get_engine, session_scope
from db.models import Job
from flows.jobs import completed_stages, create_job, job_exists
from flows.names import PROCESS_FLOW
from flows.progress import JobProgress
from flows.stages import BRANCH_STAGES, STAGES, STEPS, PipelineRun, lanes, stages_to_run
from highlights.memory import limit_heap_arenas
from highlights.settings import load_settings, validate_provider_keys
from tasks.errors import one_line
from tasks.stage import listen_to_progress

# A worker's flow-run process imports this module before any stage starts its threads
# (the CLI has set the same cap already).
limit_heap_arenas()


class StageFailed(RuntimeError):
    """A stage ended in failure; carries the stage name and the one-line cause."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        self.stage = stage
        self.cause = cause
        self.message = one_line(cause)
        super().__init__(f"{stage}: {self.message}")


def _job_snapshot(settings: Any, job_id: str) -> dict[str, Any]:
    with session_scope(get_engine(settings)) as session:
        job = session.scalars(select(Job).where(Job.job_id == job_id)).one_or_none()
        if job is None:
            raise ValueError(f"no job with job_id={job_id!r}")
        return {"duration": job.video_duration, "metadata": dict(job.metadata_ or {}),
                "original_s3_key": job.original_s3_key, "status": job.status}


def _call(run: PipelineRun, stage: str, **parameters: Any) -> dict[str, Any]:
    """Run one stage in the flow's thread; a failure names its stage."""
    try:
        return run.task(stage)(job_id=run.job_id, **parameters)
    except Exception as exc:
        raise StageFailed(stage, exc) from exc


def _branches(run: PipelineRun, todo: list[str], duration: float) -> None:
    """The analysis branches side by side, each a chain of stages; a stage is submitted
    when the one before it in its branch completes. Every branch runs to its end or its
    first failure; then the first failed stage (in pipeline order) is reported."""
    chains = [[s.name for s in chain if s.name in todo]
              for step in STEPS for chain in lanes(step) if any(s.name in BRANCH_STAGES for s in chain)]
    running: dict[PrefectFuture[Any], tuple[list[str], int]] = {}

    def submit(chain: list[str], index: int) -> None:
        future = run.task(chain[index]).submit(job_id=run.job_id, duration=duration)
        running[future] = (chain, index)

    for chain in chains:
        if chain:
            submit(chain, 0)
    failures: dict[str, BaseException] = {}
    while running:
        future = next(as_completed(list(running)))
        chain, index = running.pop(future)
        try:
            future.result()
        except Exception as exc:
            failures[chain[index]] = exc
            continue
        if index + 1 < len(chain):
            submit(chain, index + 1)
    for stage in BRANCH_STAGES:
        if stage in failures:
            raise StageFailed(stage, failures[stage]) from failures[stage]


@flow(name=PROCESS_FLOW, flow_run_name="lecture-{job_id}", log_prints=False,
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
    if not jobstate.claim(settings, job_id, str(flow_run.id), resume=resume):
        status = _job_snapshot(settings, job_id)["status"]
        logger.info("job %s is already %s: duplicate request ignored", job_id, status)
        return {"job_id": job_id, "duplicate": True, "status": status}
    snapshot = _job_snapshot(settings, job_id)
    source = source or snapshot["metadata"].get("source")
    options = {**snapshot["metadata"].get("options", {}), **(options or {})}

    done = completed_stages(settings, job_id) if resume else set()
    todo = stages_to_run(done)
    transcriber = snapshot["metadata"].get("transcriber", settings.transcriber)
    progress = JobProgress(settings, job_id, snapshot["duration"], STAGES,
                           remote=transcriber != "local")
    for stage in done - set(todo):
        progress.mark_done(stage)
    logger.info("job %s: running stages %s", job_id, ", ".join(todo))

    run = PipelineRun(settings, job_id, progress, snapshot["duration"])
    listen_to_progress(job_id, progress.stage_progress)
    try:
        if "uploading" in todo:
            _call(run, "uploading", source=source, filename=snapshot["metadata"].get("filename"))
        snapshot = _job_snapshot(settings, job_id)
        duration = float(snapshot["duration"] or 0.0)
        progress.duration = max(duration, 1.0)
        run.duration = duration  # timeouts scale with the length ingest measured

        _branches(run, todo, duration)
        if "content_analysis" in todo:
            _call(run, "content_analysis", duration=duration)
        if "segmentation" in todo:
            _call(run, "segmentation", duration=duration, options=options)
        if "compilation" in todo:
            _call(run, "compilation", source_key=snapshot["original_s3_key"], duration=duration,
                  options=options)
        summary = _call(run, "complete")
    except StageFailed as failure:
        jobstate.mark_failed(settings, job_id, failure.message, stage=failure.stage)
        raise
    except Exception as exc:  # a failure outside any stage (settings, database)
        jobstate.mark_failed(settings, job_id, one_line(exc),
                             stage="complete" if "complete" in done else todo[0])
        raise
    finally:
        listen_to_progress(job_id, None)
        # This machine's scratch (source copy, audio, renders) serves this run only, failed
        # or not; what a retry reuses is in the object store under work/{job_id}/.
        shutil.rmtree(settings.work_dir / job_id, ignore_errors=True)
    return {"job_id": job_id, **(summary or {})}
