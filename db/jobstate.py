"""Every change of a `jobs` row's state, in one place.

A job moves queued -> running -> completed | failed, and back to queued when it is
retried or reprocessed. Each move is one UPDATE here, so what a state means (which
fields it sets and clears) is written once, whoever makes the move: the flow, the API,
the CLI or the maintenance flows.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.engine import get_engine, session_scope
from db.models import Job, utcnow
from highlights.settings import Settings

MAX_ERROR_CHARS = 2000
MAX_MESSAGE_CHARS = 500


# Every function takes the settings (one short transaction of its own) or an open
# session (the change joins the caller's transaction, e.g. beside the read that decided it).
Target = Settings | Session


def _update(target: Target, job_id: str, *conditions: Any, **values: Any) -> int:
    statement = update(Job).where(Job.job_id == job_id, *conditions).values(**values)
    if isinstance(target, Session):
        return int(target.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
    with session_scope(get_engine(target)) as session:
        return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def claim(settings: Target, job_id: str, flow_run_id: str, *, resume: bool) -> bool:
    """Mark the job running for this flow run; False when another run already has it.

    One conditional UPDATE, so two runs started at the same instant for the same queued
    job (an S3 event delivered twice) cannot both process it. A resumed run takes the job
    whatever its state: the caller decided to retry it.
    """
    conditions = () if resume else (Job.status == "queued",)
    return _update(
        settings, job_id, *conditions,
        status="running", flow_run_id=flow_run_id, error_message=None, completed_at=None,
        progress_message="Resuming" if resume else "Starting",
    ) == 1


def record_progress(settings: Target, job_id: str, *, stage: str | None = None,
                    percent: float | None = None, eta_seconds: int | None = None,
                    message: str | None = None) -> None:
    """The running job's stage, percent, ETA and message (only the fields given)."""
    values: dict[str, Any] = {}
    if stage is not None:
        values["current_stage"] = stage
    if percent is not None:
        values["progress_percent"] = percent
    if eta_seconds is not None:
        values["eta_seconds"] = eta_seconds
    if message is not None:
        values["progress_message"] = message[:MAX_MESSAGE_CHARS]
    if values:
        _update(settings, job_id, **values)


def mark_failed(settings: Target, job_id: str, message: str, *, stage: str | None = None,
                progress_message: str | None = None,
                only_if: Collection[str] | None = None) -> bool:
    """The job failed: why (`stage: message` when a stage failed), when, and no ETA.

    `only_if` limits the change to jobs still in one of those statuses, so a job that
    ended meanwhile keeps its outcome. True when the row changed.
    """
    values: dict[str, Any] = {
        "status": "failed",
        "error_message": (f"{stage}: {message}" if stage else message)[:MAX_ERROR_CHARS],
        "eta_seconds": None,
        "completed_at": utcnow(),
        "progress_message": (progress_message
                             or (f"Failed during {stage.replace('_', ' ')}" if stage else "Failed")
                             )[:MAX_MESSAGE_CHARS],
    }
    if stage:
        values["current_stage"] = stage
    conditions = (Job.status.in_(list(only_if)),) if only_if is not None else ()
    return _update(settings, job_id, *conditions, **values) == 1


def mark_completed(settings: Target, job_id: str, clips: int) -> None:
    _update(settings, job_id, status="completed", current_stage="complete",
            progress_percent=100.0, eta_seconds=0, error_message=None,
            progress_message=f"Done: {clips} clip{'s' if clips != 1 else ''}",
            completed_at=utcnow())


def requeue(settings: Target, job_id: str, message: str, *,
            metadata: dict[str, Any] | None = None, keep_outcome: bool = False) -> None:
    """Back to `queued` for a retry or a reprocessing run (new metadata when given).

    A retry clears the previous outcome; the reprocessing flow keeps it (`keep_outcome`)
    so that a run which then cannot start leaves the job with the error it had.
    """
    values: dict[str, Any] = {"status": "queued", "progress_message": message[:MAX_MESSAGE_CHARS],
                              "eta_seconds": None}
    if not keep_outcome:
        values.update(error_message=None, completed_at=None)
    if metadata is not None:
        values["metadata_"] = metadata
    _update(settings, job_id, **values)


def record_flow_run(settings: Target, job_id: str, flow_run_id: str) -> None:
    """The flow run a launcher started for the job (before the run itself claims it)."""
    _update(settings, job_id, flow_run_id=flow_run_id)


def restore_failed(settings: Target, job_id: str, message: str) -> None:
    """A job queued for reprocessing whose run could not start: failed again, its
    earlier error kept, the message saying why nothing happened."""
    _update(settings, job_id, status="failed", progress_message=message[:MAX_MESSAGE_CHARS])


def record_input(settings: Target, job_id: str, **facts: Any) -> None:
    """What ingest learned of the recording: name, size, type, key, duration, probe."""
    allowed = {"filename", "file_size", "content_type", "original_s3_key", "video_duration",
               "video_metadata"}
    unknown = set(facts) - allowed
    if unknown:
        raise ValueError(f"not input facts of a job: {sorted(unknown)}")
    _update(settings, job_id, **facts)
