"""Stage `uploading`: validate, probe, store the original, prepare shared media signals.

Besides storing the original under `uploads/{job_id}/{filename}`, this stage makes the
two decodes every later analysis shares: the 16 kHz mono audio (silence detection and
transcription) and the low-rate visual samples (blank screens, layout, slide changes).
Doing them once here keeps the three analysis branches independent of each other.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from db.engine import get_engine, session_scope
from db.models import Job, ProcessingLog
from highlights.audio import extract_audio
from highlights.probe import MediaError, probe_media
from highlights.settings import Settings
from highlights.storage import safe_filename, upload_key
from highlights.types import MediaProbe
from highlights.visual import visual_pass
from tasks.context import AUDIO_WAV, VISUAL_DIR, StageContext, StageResult
from tasks.errors import StageError
from tasks.sources import local_source, source_filename

AGENT = "ingest (PyAV)"


def _human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def validate_file(path: Path, max_bytes: int) -> int:
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"{path.name} is empty (0 bytes): upload the recording again")
    if size > max_bytes:
        raise MediaError(
            f"{path.name} is {_human_bytes(size)}, over the limit of {_human_bytes(max_bytes)} "
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
    now = datetime.now(UTC)
    with session_scope(get_engine(settings)) as session:
        session.execute(update(Job).where(Job.job_id == job_id).values(
            status="failed", error_message=f"uploading: {message}", current_stage="uploading",
            progress_message="Failed during uploading", eta_seconds=None, completed_at=now))
        session.add_all([
            ProcessingLog(job_id=job_id, stage="uploading", agent_name=AGENT, status="started",
                          metadata_={"attempt": 1, "checked_before_start": True}),
            ProcessingLog(job_id=job_id, stage="uploading", agent_name=AGENT, status="failed",
                          duration_seconds=round(seconds, 3), error_message=message,
                          metadata_={"attempt": 1, "checked_before_start": True,
                                     "error_type": "MediaError"}),
        ])


def run(ctx: StageContext, source: str, filename: str | None = None) -> StageResult:
    timings: dict[str, float] = {}
    started = time.monotonic()
    path = local_source(source, ctx.settings, ctx.work_dir)
    size, probe = check_input(path, ctx.settings)
    timings["probe"] = time.monotonic() - started

    name = safe_filename(filename or source_filename(source))
    key = upload_key(ctx.job_id, name)
    mark = time.monotonic()
    if not (ctx.storage.exists(key) and ctx.storage.size(key) == size):
        ctx.storage.put_file(path, key, content_type=probe.content_type)
    timings["store"] = time.monotonic() - mark

    mark = time.monotonic()
    audio = extract_audio(path, ctx.scratch(AUDIO_WAV))
    if audio is not None:
        ctx.storage.put_file(audio.path, ctx.work_key(AUDIO_WAV), content_type="audio/wav")
    else:
        ctx.storage.delete(ctx.work_key(AUDIO_WAV))
    timings["audio"] = time.monotonic() - mark

    mark = time.monotonic()
    visual_dir = ctx.scratch(VISUAL_DIR)
    ctx.storage.delete_prefix(ctx.work_key(VISUAL_DIR) + "/")
    visual = visual_pass(path, visual_dir)
    if visual is not None:
        ctx.put_folder(visual_dir, ctx.work_key(VISUAL_DIR))
    timings["visual"] = time.monotonic() - mark

    metadata = {k: v for k, v in asdict(probe).items() if v is not None and k != "extra"}
    metadata.update(probe.extra or {})
    notes = []
    if audio is None:
        notes.append("no audio stream: no transcript or audio silence; clips are chosen from the video alone")
    if visual is None:
        notes.append("no video stream: no layout, blank-screen or slide analysis")
    if audio is not None and audio.gaps_filled_seconds > 0.05:
        notes.append(f"audio had gaps: {audio.gaps_filled_seconds:.2f} s of silence inserted to keep time")
    metadata["notes"] = notes
    with session_scope(ctx.engine) as session:
        session.execute(update(Job).where(Job.job_id == ctx.job_id).values(
            filename=name[:255], file_size=size, content_type=probe.content_type,
            original_s3_key=key, video_duration=round(probe.duration, 3), video_metadata=metadata,
        ))
    if audio is None and visual is None:
        raise StageError("the file has neither audio nor video that can be decoded")
    return StageResult(
        agent_name=AGENT, rows=1,
        metadata={"file_size": size, "content_type": probe.content_type,
                  "duration": round(probe.duration, 3), "has_audio": audio is not None,
                  "has_video": visual is not None, "notes": notes,
                  "timings": {k: round(v, 3) for k, v in timings.items()}},
    )
