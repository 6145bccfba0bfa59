"""Maintenance the seed describes: removing old finished jobs with their stored files."""

from __future__ import annotations

from db.engine import get_engine, session_scope
from db.queries import delete_old_jobs
from highlights.settings import Settings
from highlights.storage import open_storage


def cleanup_jobs(settings: Settings, older_than_days: float) -> list[str]:
    """Delete completed and failed jobs older than the age, rows first, then files."""
    with session_scope(get_engine(settings)) as session:
        removed = list(delete_old_jobs(session, older_than_days))
    storage = open_storage(settings)
    for job_id in removed:
        storage.delete_job(job_id)
    return removed
