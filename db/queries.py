"""The seed's common queries and maintenance tasks as typed functions.

Every function takes a Session and leaves committing to the caller (`session_scope`), so a
stage can combine several of them in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from db.models import (
    ALL_MODELS,
    FINISHED_JOB_STATUSES,
    JOB_STATUSES,
    Base,
    Clip,
    ContentSegment,
    Job,
    LayoutAnalysis,
    ProcessingLog,
    SilenceRow,
    TranscriptRow,
    utcnow,
)
from highlights.errors import HighlightsError

ModelT = TypeVar("ModelT", bound=Base)

_DELETE_BATCH = 500  # keeps IN (...) lists well under every driver's parameter limit


class QueryError(HighlightsError, ValueError):
    """A query was asked something impossible (unknown status, bad limit); the message says what."""


class JobNotFoundError(LookupError):
    """No job has this job_id."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with job_id={job_id!r}")
        self.job_id = job_id


@dataclass
class JobBundle:
    """A job with every related row, each list in its natural order."""

    job: Job
    transcripts: list[TranscriptRow]
    silence_regions: list[SilenceRow]
    layout: LayoutAnalysis | None
    content_segments: list[ContentSegment]
    clips: list[Clip]
    logs: list[ProcessingLog]


@dataclass(frozen=True)
class TimelineEntry:
    stage: str
    agent_name: str | None
    status: str
    duration_seconds: float | None
    created_at: datetime


@dataclass(frozen=True)
class TranscriptLine:
    start_time: float
    end_time: float
    text: str
    confidence: float | None


@dataclass(frozen=True)
class TableSize:
    table: str
    rows: int
    total_bytes: int | None  # None where the engine cannot tell (SQLite)
    pretty: str  # "1.2 MB" on PostgreSQL; "N rows" on SQLite


def get_job(session: Session, job_id: str) -> Job | None:
    return session.scalars(select(Job).where(Job.job_id == job_id)).one_or_none()


def require_job(session: Session, job_id: str) -> Job:
    job = get_job(session, job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    return job


def _rows(session: Session, model: type[ModelT], job_id: str, *order: Any) -> list[ModelT]:
    column = model.job_id  # type: ignore[attr-defined]
    return list(session.scalars(select(model).where(column == job_id).order_by(*order)))


def job_layout(session: Session, job_id: str) -> LayoutAnalysis | None:
    return session.scalars(
        select(LayoutAnalysis).where(LayoutAnalysis.job_id == job_id)
    ).one_or_none()


def job_segments(session: Session, job_id: str) -> list[ContentSegment]:
    """The topic segments in lecture order."""
    return _rows(session, ContentSegment, job_id, ContentSegment.segment_order, ContentSegment.id)


def job_clips(session: Session, job_id: str) -> list[Clip]:
    """The clips in rank order; clips without an order (NULL) come last on both engines."""
    return _rows(session, Clip, job_id, Clip.clip_order.is_(None), Clip.clip_order, Clip.id)


def job_logs(session: Session, job_id: str) -> list[ProcessingLog]:
    """Every stage attempt's log rows, oldest first."""
    return _rows(session, ProcessingLog, job_id, ProcessingLog.created_at, ProcessingLog.id)


def clip_count(session: Session, job_id: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Clip).where(Clip.job_id == job_id)) or 0
    )


def clip_of_segment(session: Session, job_id: str) -> dict[str, str]:
    """segment_id -> clip_id for the segments a clip was cut from."""
    statement = select(Clip.content_segment_id, Clip.clip_id).where(
        Clip.job_id == job_id, Clip.content_segment_id.is_not(None)
    )
    return {str(segment): str(clip) for segment, clip in session.execute(statement).tuples()}


def get_job_bundle(session: Session, job_id: str) -> JobBundle | None:
    """The seed's "job with all related data": one query per table, each ordered."""
    job = get_job(session, job_id)
    if job is None:
        return None
    return JobBundle(
        job=job,
        transcripts=_rows(session, TranscriptRow, job_id, TranscriptRow.start_time, TranscriptRow.id),
        silence_regions=_rows(
            session, SilenceRow, job_id, SilenceRow.start_time, SilenceRow.id
        ),
        layout=job_layout(session, job_id),
        content_segments=job_segments(session, job_id),
        clips=job_clips(session, job_id),
        logs=job_logs(session, job_id),
    )


def top_clips(session: Session, job_id: str, limit: int = 5) -> list[Clip]:
    """The job's clips, most important first (unscored clips last)."""
    if limit < 1:
        raise QueryError(f"limit must be at least 1, got {limit}")
    statement = (
        select(Clip)
        .where(Clip.job_id == job_id)
        # PostgreSQL sorts NULL first in DESC order; an unscored clip is never "top".
        .order_by(
            Clip.importance_score.is_(None), Clip.importance_score.desc(), Clip.clip_order, Clip.id
        )
        .limit(limit)
    )
    return list(session.scalars(statement))


def processing_timeline(session: Session, job_id: str) -> list[TimelineEntry]:
    statement = (
        select(
            ProcessingLog.stage,
            ProcessingLog.agent_name,
            ProcessingLog.status,
            ProcessingLog.duration_seconds,
            ProcessingLog.created_at,
        )
        .where(ProcessingLog.job_id == job_id)
        .order_by(ProcessingLog.created_at, ProcessingLog.id)
    )
    return [TimelineEntry(*row) for row in session.execute(statement)]


def full_transcript(session: Session, job_id: str) -> list[TranscriptLine]:
    statement = (
        select(TranscriptRow.start_time, TranscriptRow.end_time, TranscriptRow.text, TranscriptRow.confidence)
        .where(TranscriptRow.job_id == job_id)
        .order_by(TranscriptRow.start_time, TranscriptRow.id)
    )
    return [TranscriptLine(*row) for row in session.execute(statement)]


def topic_spans(session: Session, job_id: str) -> list[tuple[float, float, str]]:
    """(start, end, topic) of the job's content segments, in order."""
    statement = (
        select(ContentSegment.start_time, ContentSegment.end_time, ContentSegment.topic)
        .where(ContentSegment.job_id == job_id)
        .order_by(ContentSegment.segment_order, ContentSegment.id)
    )
    return [(float(a), float(b), str(t)) for a, b, t in session.execute(statement)]


def transcript_text(session: Session, job_id: str) -> str:
    """The whole transcript as one string, segments joined by spaces."""
    return " ".join(line.text.strip() for line in full_transcript(session, job_id)).strip()


def _check_status(status: str) -> None:
    if status not in JOB_STATUSES:
        raise QueryError(
            f"job status {status!r} is not valid; use one of: {', '.join(JOB_STATUSES)}"
        )


def count_jobs(session: Session, status: str | None = None) -> int:
    statement = select(func.count()).select_from(Job)
    if status is not None:
        _check_status(status)
        statement = statement.where(Job.status == status)
    return int(session.scalar(statement) or 0)


def list_jobs(
    session: Session, status: str | None = None, limit: int | None = None, offset: int = 0
) -> list[Job]:
    """Jobs, newest first, optionally only those with `status`."""
    statement = select(Job).order_by(Job.created_at.desc(), Job.id.desc())
    if status is not None:
        _check_status(status)
        statement = statement.where(Job.status == status)
    if limit is not None:
        if limit < 1:
            raise QueryError(f"limit must be at least 1, got {limit}")
        statement = statement.limit(limit)
    if offset:
        statement = statement.offset(offset)
    return list(session.scalars(statement))


def delete_job(session: Session, job_id: str) -> bool:
    """Delete a job; the database cascades to its rows in all six child tables."""
    result = session.execute(
        delete(Job).where(Job.job_id == job_id).execution_options(synchronize_session=False)
    )
    session.expire_all()  # child objects already loaded in this session are gone too
    return bool(result.rowcount)


def delete_old_jobs(
    session: Session,
    older_than_days: float,
    *,
    statuses: Sequence[str] = FINISHED_JOB_STATUSES,
    now: datetime | None = None,
) -> list[str]:
    """The seed's cleanup: delete finished jobs created more than N days ago.

    Returns the deleted job ids so the caller can remove their stored files. Queued and
    running jobs are never touched, however old.
    """
    if older_than_days < 0:
        raise QueryError(f"older_than_days must not be negative, got {older_than_days}")
    for status in statuses:
        _check_status(status)
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    job_ids = list(
        session.scalars(
            select(Job.job_id)
            .where(Job.created_at < cutoff, Job.status.in_(tuple(statuses)))
            .order_by(Job.created_at)
        )
    )
    for start in range(0, len(job_ids), _DELETE_BATCH):
        batch = job_ids[start : start + _DELETE_BATCH]
        session.execute(
            delete(Job).where(Job.job_id.in_(batch)).execution_options(synchronize_session=False)
        )
    if job_ids:
        session.expire_all()
    return job_ids


def table_sizes(session: Session) -> list[TableSize]:
    """Row counts of the seven tables, with their disk size on PostgreSQL, largest first.

    SQLite keeps no per-table size, so there `total_bytes` is None and rows are all we say.
    """
    dialect = session.get_bind().dialect.name
    sizes = []
    for model in ALL_MODELS:
        table = model.__tablename__
        rows = int(session.scalar(select(func.count()).select_from(model)) or 0)
        if dialect == "postgresql":
            total, pretty = session.execute(
                text(
                    "SELECT pg_total_relation_size(CAST(:t AS regclass)), "
                    "pg_size_pretty(pg_total_relation_size(CAST(:t AS regclass)))"
                ),
                {"t": table},
            ).one()
            sizes.append(TableSize(table, rows, int(total), str(pretty)))
        else:
            sizes.append(TableSize(table, rows, None, f"{rows} rows"))
    return sorted(sizes, key=lambda s: (s.total_bytes or 0, s.rows), reverse=True)


