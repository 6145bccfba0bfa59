"""Flows the scheduled deployments run: reprocessing failed or outdated jobs, cleanup.

`reprocess-lectures` (every 30 minutes) gives jobs that failed for a transient reason
(a storage or API outage, a crashed worker) another run from the first unfinished stage,
at most `max_attempts` times per job, waiting longer after each attempt; it also starts
jobs the S3 bridge queued whose run never began. On request it re-runs completed jobs
made by an older pipeline version or other models.

`cleanup-old-jobs` (daily) deletes completed and failed jobs past an age, with their
stored files.

Reprocessed jobs run as flow runs of the `process-lecture` deployment, so they go
through the work pool like any other job; `inline=True` runs them inside this flow
run instead (no deployment or worker needed, one job after another).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger
from sqlalchemy import select

from db import jobstate
from db.engine import get_engine, session_scope
from db.models import Job, ProcessingLog, utcnow
from db.queries import delete_old_jobs
from flows.jobs import PIPELINE_VERSION
from flows.lecture import process_lecture
from flows.names import PROCESS_DEPLOYMENT
from highlights.settings import Settings, load_settings
from highlights.storage import open_storage
from tasks.errors import one_line

# Prefect flow run states after which a job still marked `running` has nobody working on it.
_DEAD_RUN_STATES = ("CRASHED", "FAILED", "CANCELLED", "COMPLETED")


@dataclass(frozen=True)
class Candidate:
    """A job the reprocess flow will run again, and why."""

    job_id: str
    reason: str  # "transient_failure", "lost_trigger", "stale_run" or "outdated"
    detail: str
    attempt: int  # the reprocess attempt this run is (1 = first)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def final_failure(session: Any, job_id: str) -> tuple[bool, str] | None:
    """(transient, message) of the job's last final `failed` log row, or None."""
    rows = session.execute(
        select(ProcessingLog.metadata_, ProcessingLog.error_message, ProcessingLog.stage)
        .where(ProcessingLog.job_id == job_id, ProcessingLog.status == "failed")
        .order_by(ProcessingLog.created_at.desc(), ProcessingLog.id.desc())
    ).all()
    for metadata, message, stage in rows:
        metadata = metadata or {}
        if metadata.get("final", True):
            return bool(metadata.get("transient", False)), f"{stage}: {message or 'failed'}"
    return None


def _flow_run_state(flow_run_id: str | None) -> str | None:
    """The Prefect state type of a job's flow run; "MISSING" when the server does not know it."""
    if not flow_run_id:
        return "MISSING"
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        run_id = UUID(flow_run_id)
    except ValueError:
        return "MISSING"
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(run_id)
        except ObjectNotFound:
            return "MISSING"
    return run.state.type.value if run.state else None


def outdated_reason(metadata: dict[str, Any], settings: Settings) -> str | None:
    """Why a completed job's results come from another pipeline or model, or None."""
    current = {
        "pipeline_version": PIPELINE_VERSION,
        "transcriber": settings.transcriber,
        "analyzer": settings.analyzer,
    }
    changed = [
        f"{name} {metadata.get(name)!r} -> {value!r}"
        for name, value in current.items()
        if metadata.get(name) != value
    ]
    return "; ".join(changed) or None


def find_candidates(
    settings: Settings,
    *,
    max_attempts: int,
    retry_after_minutes: float,
    stale_after_minutes: float,
    include_outdated: bool,
    limit: int,
    queued_after_minutes: float = 30.0,
    now: datetime | None = None,
) -> tuple[list[Candidate], list[str]]:
    """Jobs to run again, oldest first, and notes on jobs passed over (for the run log)."""
    now = now or utcnow()
    chosen: list[Candidate] = []
    notes: list[str] = []
    with session_scope(get_engine(settings)) as session:
        failed = session.scalars(
            select(Job).where(Job.status == "failed").order_by(Job.updated_at)
        ).all()
        for job in failed:
            attempts = int((job.metadata_ or {}).get("reprocess_attempts", 0))
            failure = final_failure(session, job.job_id)
            if failure is None:
                notes.append(f"{job.job_id}: failed without a stage log; not retried")
                continue
            transient, message = failure
            if not transient:
                continue  # bad input: another run would fail the same way
            if attempts >= max_attempts:
                notes.append(
                    f"{job.job_id}: gave up after {attempts} reprocess attempts ({message})"
                )
                continue
            # Back off: 1x, 2x, 4x ... the delay after each attempt.
            wait = timedelta(minutes=retry_after_minutes * (2**attempts))
            failed_at = _aware(job.completed_at) or _aware(job.updated_at) or now
            if now - failed_at < wait:
                notes.append(f"{job.job_id}: next attempt after {failed_at + wait:%H:%M:%S} UTC")
                continue
            chosen.append(Candidate(job.job_id, "transient_failure", message, attempts + 1))

        # Jobs the S3 bridge created whose run never started (the event or the run was lost).
        waiting_before = now - timedelta(minutes=queued_after_minutes)
        waiting = session.scalars(
            select(Job)
            .where(Job.status == "queued", Job.flow_run_id.is_(None),
                   Job.created_at < waiting_before)
            .order_by(Job.created_at)
        ).all()  # fmt: skip
        for job in waiting:
            metadata = dict(job.metadata_ or {})
            if (metadata.get("trigger") or {}).get("kind") != "s3-event":
                continue  # the API's own queue may hold it on purpose
            attempts = int(metadata.get("reprocess_attempts", 0))
            if attempts >= max_attempts:
                notes.append(f"{job.job_id}: never started, gave up after {attempts} attempts")
                continue
            chosen.append(Candidate(job.job_id, "lost_trigger",
                                    f"queued since {_aware(job.created_at):%Y-%m-%d %H:%M} UTC "
                                    "without a flow run", attempts + 1))  # fmt: skip

        stale_before = now - timedelta(minutes=stale_after_minutes)
        running = session.scalars(
            select(Job)
            .where(Job.status == "running", Job.updated_at < stale_before)
            .order_by(Job.updated_at)
        ).all()
        stale = [(job.job_id, job.flow_run_id, dict(job.metadata_ or {})) for job in running]

        outdated: list[Candidate] = []
        if include_outdated:
            done = session.scalars(
                select(Job).where(Job.status == "completed").order_by(Job.created_at)
            ).all()
            for job in done:
                reason = outdated_reason(dict(job.metadata_ or {}), settings)
                if reason:
                    outdated.append(Candidate(job.job_id, "outdated", reason, 1))

    for job_id, flow_run_id, metadata in stale:
        state = _flow_run_state(flow_run_id)
        if state not in (*_DEAD_RUN_STATES, "MISSING"):
            continue  # its flow run is still alive (slow, not dead)
        attempts = int(metadata.get("reprocess_attempts", 0))
        if attempts >= max_attempts:
            notes.append(f"{job_id}: stuck running, gave up after {attempts} reprocess attempts")
            continue
        chosen.append(Candidate(job_id, "stale_run", f"its flow run is {state}", attempts + 1))
    chosen.extend(outdated)
    return chosen[:limit], notes


def _reprocess_source(settings: Settings, job: Job) -> str | None:
    """Where an outdated job's recording is read from: the stored original, else its source."""
    if job.original_s3_key and open_storage(settings).exists(job.original_s3_key):
        if settings.uses_s3:
            return f"{settings.storage_url.rstrip('/')}/{job.original_s3_key}"
        return str(Path(settings.storage_url) / job.original_s3_key)
    return (job.metadata_ or {}).get("source")


def queue_for_reprocess(settings: Settings, candidate: Candidate) -> tuple[dict[str, Any], int]:
    """Record the attempt on the job row and mark it queued.

    Returns the flow parameters and the job's reprocess sequence number (1, 2, ...),
    which keys the flow run so that a repeated submission cannot start a second one.
    """
    with session_scope(get_engine(settings)) as session:
        job = session.scalars(select(Job).where(Job.job_id == candidate.job_id)).one()
        metadata = dict(job.metadata_ or {})
        history = list(metadata.get("reprocess_history", []))[-19:]
        history.append(
            {
                "at": utcnow().isoformat(timespec="seconds"),
                "reason": candidate.reason,
                "detail": candidate.detail[:300],
                "previous_status": job.status,
            }
        )
        metadata["reprocess_history"] = history
        sequence = int(metadata.get("reprocess_count", 0)) + 1
        metadata["reprocess_count"] = sequence
        parameters: dict[str, Any] = {"job_id": candidate.job_id}
        if candidate.reason == "outdated":
            metadata["reprocessed_from"] = {
                k: metadata.get(k) for k in ("pipeline_version", "transcriber", "analyzer")
            }
            metadata.update(
                pipeline_version=PIPELINE_VERSION,
                transcriber=settings.transcriber,
                analyzer=settings.analyzer,
                reprocess_attempts=0,
            )
            source = _reprocess_source(settings, job)
            if source:
                parameters["source"] = source
            parameters["resume"] = False  # every stage again, with the current models
            message = "Queued for reprocessing with the current pipeline"
        else:
            metadata["reprocess_attempts"] = candidate.attempt
            parameters["resume"] = True  # from the first stage that did not complete
            message = f"Queued for retry {candidate.attempt} after: {candidate.detail}"
        jobstate.requeue(session, candidate.job_id, message, metadata=metadata, keep_outcome=True)
    return parameters, sequence


def cleanup_jobs(settings: Settings, older_than_days: float) -> list[str]:
    """Delete completed and failed jobs older than the age, rows first, then files."""
    with session_scope(get_engine(settings)) as session:
        removed = list(delete_old_jobs(session, older_than_days))
    storage = open_storage(settings)
    for job_id in removed:
        storage.delete_job(job_id)
    return removed


@flow(name="reprocess-lectures", log_prints=False)
def reprocess_lectures(
    max_attempts: int = 3,
    retry_after_minutes: float = 5.0,
    stale_after_minutes: float = 120.0,
    queued_after_minutes: float = 30.0,
    include_outdated: bool = False,
    limit: int = 20,
    inline: bool = False,
    deployment: str = PROCESS_DEPLOYMENT,
) -> dict[str, Any]:
    """Run again the jobs that failed for a transient reason, and on request outdated ones.

    Args:
        max_attempts: Reprocess attempts per job before giving up on it.
        retry_after_minutes: Wait after a failure before the first attempt; doubles after each.
        stale_after_minutes: A job `running` this long without progress whose flow run has
            ended (crashed worker) counts as a transient failure.
        queued_after_minutes: A job the S3 bridge created that is still queued without a
            flow run after this long (its event or run was lost) is started.
        include_outdated: Also re-run completed jobs made by an older pipeline version or
            another transcriber/analyzer than the current settings.
        limit: At most this many jobs per run.
        inline: Run the jobs inside this flow run, one by one, instead of as flow runs of
            the process-lecture deployment.
        deployment: The FLOW/DEPLOYMENT that processes one lecture.
    """
    logger = get_run_logger()
    settings = load_settings()
    candidates, notes = find_candidates(
        settings,
        max_attempts=max_attempts,
        retry_after_minutes=retry_after_minutes,
        stale_after_minutes=stale_after_minutes,
        include_outdated=include_outdated,
        limit=limit,
        queued_after_minutes=queued_after_minutes,
    )
    for note in notes:
        logger.info(note)
    outcomes: list[dict[str, Any]] = []
    for candidate in candidates:
        parameters, sequence = queue_for_reprocess(settings, candidate)
        outcome: dict[str, Any] = {**asdict(candidate), "parameters": parameters}
        try:
            if inline:
                result = process_lecture(**parameters)
                outcome["result"] = "completed"
                outcome["summary"] = result
            else:
                from prefect.deployments import run_deployment

                run = run_deployment(
                    deployment,
                    parameters=parameters,
                    timeout=0,
                    idempotency_key=f"reprocess-{candidate.job_id}-{sequence}",
                    tags=["reprocess", candidate.reason],
                )
                outcome["result"] = "submitted"
                outcome["flow_run_id"] = str(run.id)
        except Exception as exc:
            message = one_line(exc)
            outcome["result"] = "failed"
            outcome["error"] = message
            if not inline:  # the run never started: the job is failed as before
                jobstate.restore_failed(
                    settings, candidate.job_id, f"Reprocessing could not start: {message}")
        logger.info(
            "job %s (%s, attempt %d): %s",
            candidate.job_id,
            candidate.reason,
            candidate.attempt,
            outcome["result"],
        )
        outcomes.append(outcome)
    return {"jobs": outcomes, "passed_over": notes}


@flow(name="cleanup-old-jobs", log_prints=False)
def cleanup_old_jobs(older_than_days: float = 30.0) -> dict[str, Any]:
    """Delete completed and failed jobs older than an age, with their stored files.

    Args:
        older_than_days: Jobs created more than this many days ago go; queued and
            running jobs stay whatever their age.
    """
    logger = get_run_logger()
    if older_than_days < 0:
        raise ValueError(f"older_than_days must not be negative, got {older_than_days}")
    removed = cleanup_jobs(load_settings(), older_than_days)
    logger.info("deleted %d job(s) older than %g day(s)", len(removed), older_than_days)
    return {"older_than_days": older_than_days, "deleted_jobs": removed}
