"""Creating jobs and deciding where a retry resumes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.engine import get_engine, session_scope
from db.models import Job, ProcessingLog
from highlights.settings import Settings
from highlights.storage import is_s3_url, safe_filename, upload_key
from tasks.sources import source_filename

PIPELINE_VERSION = "1.0.0"


def new_job_id() -> str:
    return str(uuid.uuid4())


def create_job(settings: Settings, source: str, options: dict[str, Any] | None = None,
               job_id: str | None = None, extra_metadata: dict[str, Any] | None = None) -> str:
    """Insert a `queued` job for `source` (a path or s3:// URL) and return its id."""
    job_id = job_id or new_job_id()
    filename = safe_filename(source_filename(source))
    size = 0 if is_s3_url(source) else Path(source).stat().st_size
    metadata = {
        "source": source,
        "options": options or {},
        "pipeline_version": PIPELINE_VERSION,
        "transcriber": settings.transcriber,
        "analyzer": settings.analyzer,
        **(extra_metadata or {}),
    }
    with session_scope(get_engine(settings)) as session:
        session.add(Job(job_id=job_id, filename=filename[:255], file_size=size,
                        content_type="application/octet-stream",
                        original_s3_key=upload_key(job_id, filename), status="queued",
                        progress_percent=0.0, progress_message="Waiting to start",
                        metadata_=metadata))
    return job_id


def job_exists(settings: Settings, job_id: str) -> bool:
    with session_scope(get_engine(settings)) as session:
        return session.scalar(select(Job.id).where(Job.job_id == job_id)) is not None


def completed_stages(settings: Settings, job_id: str) -> set[str]:
    """Stages whose latest log row says `completed`: their results can be reused."""
    latest: dict[str, str] = {}
    with session_scope(get_engine(settings)) as session:
        rows = session.execute(
            select(ProcessingLog.stage, ProcessingLog.status)
            .where(ProcessingLog.job_id == job_id)
            .order_by(ProcessingLog.created_at, ProcessingLog.id)
        ).all()
    for stage, status in rows:
        latest[stage] = status
    return {stage for stage, status in latest.items() if status == "completed"}
