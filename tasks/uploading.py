"""Stage `uploading`: validate, probe, store the original, extract the shared audio.

Besides storing the original under `uploads/{job_id}/{filename}`, this stage makes the
one decode of the sound every later analysis shares: the 16 kHz mono audio (silence
detection and transcription). The picture is decoded in the layout branch, so that
transcription, the longest stage, starts as soon as the audio is out.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from prefect import task

from db import jobstate
from highlights.audio import extract_audio
from highlights.storage import safe_filename, upload_key
from tasks.context import AUDIO_WAV, StageContext, StageResult
from tasks.errors import StageError
from tasks.input_check import AGENT, STAGE_NAME, check_input
from tasks.sources import local_source, source_filename
from tasks.stage import TASK_DEFAULTS, Stage


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

    metadata = {k: v for k, v in asdict(probe).items() if v is not None and k != "extra"}
    metadata.update(probe.extra or {})
    notes = []
    if audio is None:
        notes.append("no audio stream: no transcript or audio silence; clips are chosen from the video alone")
    if not probe.has_video:
        notes.append("no video stream: no layout, blank-screen or slide analysis")
    if audio is not None and audio.gaps_filled_seconds > 0.05:
        notes.append(f"audio had gaps: {audio.gaps_filled_seconds:.2f} s of silence inserted to keep time")
    metadata["notes"] = notes
    jobstate.record_input(ctx.settings, ctx.job_id, filename=name[:255], file_size=size,
                          content_type=probe.content_type, original_s3_key=key,
                          video_duration=round(probe.duration, 3), video_metadata=metadata)
    if audio is None and not probe.has_video:
        raise StageError("the file has neither audio nor video that can be decoded")
    return StageResult(
        agent_name=AGENT, rows=1,
        metadata={"file_size": size, "content_type": probe.content_type,
                  "duration": round(probe.duration, 3), "has_audio": audio is not None,
                  "has_video": probe.has_video, "notes": notes,
                  "timings": {k: round(v, 3) for k, v in timings.items()}},
    )


STAGE = Stage(
    name=STAGE_NAME, step=0, cost=0.015, timeout_per_minute=30, agent=AGENT,
    message="Checking and storing the recording, extracting the audio",
)


@task(name=STAGE.name, task_run_name="uploading [{job_id}]", **TASK_DEFAULTS)
def uploading_task(job_id: str, source: str, filename: str | None = None) -> dict[str, Any]:
    """Store the recording and the decodes every analysis shares."""
    return run(StageContext(job_id), source, filename).to_dict()
