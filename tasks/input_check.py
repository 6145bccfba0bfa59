"""Is a local recording fit to process? The checks ingest runs first, importable without
Prefect, so the CLI can refuse a bad file in a second or two instead of after starting
the pipeline."""

from __future__ import annotations

from pathlib import Path

from db import jobstate
from db.engine import get_engine, session_scope
from db.models import ProcessingLog
from highlights.probe import MediaError, probe_media
from highlights.settings import Settings
from highlights.storage import human_bytes
from highlights.types import MediaProbe

AGENT = "ingest (PyAV)"
STAGE_NAME = "uploading"


def validate_file(path: Path, max_bytes: int) -> int:
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"{path.name} is empty (0 bytes): upload the recording again")
    if size > max_bytes:
        raise MediaError(
            f"{path.name} is {human_bytes(size)}, over the limit of {human_bytes(max_bytes)} "
            "(HIGHLIGHTS_MAX_UPLOAD_BYTES): split the recording or raise the limit"
        )
    return size


def check_input(path: Path, settings: Settings) -> tuple[int, MediaProbe]:
    """(size, probe) of a local recording, or MediaError saying what is wrong with it:
    empty, too large, not media, truncated, too long."""
    size = validate_file(path, settings.max_upload_bytes)
    probe = probe_media(path)
    if probe.duration > settings.max_duration_seconds:
        raise MediaError(
            f"{path.name} lasts {probe.duration / 60:.0f} min, over the limit of "
            f"{settings.max_duration_seconds / 60:.0f} min (HIGHLIGHTS_MAX_DURATION_SECONDS)"
        )
    return size, probe


def record_refusal(settings: Settings, job_id: str, message: str, seconds: float) -> None:
    """A job refused before the pipeline started: failed in `jobs` and in the timeline,
    exactly as if the `uploading` stage had refused it."""
    record_failure_before_start(settings, job_id, message, seconds, "MediaError", agent=AGENT)


def record_failure_before_start(settings: Settings, job_id: str, message: str, seconds: float,
                                error_type: str, *, agent: str | None = None) -> None:
    """A job that failed before its first stage ran (a refused file, an orchestrator that
    did not start): failed in `jobs`, and a failed attempt of the first stage in the
    timeline, marked as checked before the start, so both places say why."""
    jobstate.mark_failed(settings, job_id, message, stage=STAGE_NAME)
    before = {"attempt": 1, "checked_before_start": True}
    with session_scope(get_engine(settings)) as session:
        session.add_all([
            ProcessingLog(job_id=job_id, stage=STAGE_NAME, agent_name=agent, status="started",
                          metadata_=before),
            ProcessingLog(job_id=job_id, stage=STAGE_NAME, agent_name=agent, status="failed",
                          duration_seconds=round(seconds, 3), error_message=message,
                          metadata_={**before, "error_type": error_type}),
        ])
