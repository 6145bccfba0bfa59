"""Stage `transcription`: speech to timed text, with word timings kept for clips."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import task

from db.engine import session_scope
from db.loaders import replace_stage_rows
from db.models import TranscriptRow
from highlights.subtitles import transcript_to_srt, transcript_to_vtt
from highlights.transcription import get_transcriber
from highlights.types import Transcript
from tasks.context import TRANSCRIPT_JSON, StageContext, StageResult, stored_audio
from tasks.stage import TASK_DEFAULTS, Stage, progress_reporter


def run(ctx: StageContext, duration: float | None,
        progress: Callable[[float], None] | None = None) -> StageResult:
    wav = stored_audio(ctx)
    notes: list[str] = []
    if wav is None:
        transcript = Transcript(segments=[], provider="none", model="")
        notes.append("no audio stream: empty transcript")
        agent = "none (no audio)"
    else:
        transcriber = get_transcriber(ctx.settings)
        agent = transcriber.name
        transcript = transcriber.transcribe(str(wav), duration=duration, progress=progress)
    rows = [
        TranscriptRow(start_time=round(s.start, 3), end_time=round(s.end, 3), text=s.text.strip(),
                      confidence=None if s.confidence is None else round(s.confidence, 4),
                      speaker_id=None)
        for s in transcript.segments if s.text.strip()
    ]
    # Files first, rows last: rows never point at a transcript that was not stored.
    ctx.put_json(ctx.result_key(TRANSCRIPT_JSON), transcript.to_dict())
    ctx.storage.put_bytes(transcript_to_srt(transcript).encode("utf-8"),
                          ctx.result_key("transcript.srt"), content_type="application/x-subrip")
    ctx.storage.put_bytes(transcript_to_vtt(transcript).encode("utf-8"),
                          ctx.result_key("transcript.vtt"), content_type="text/vtt")
    with session_scope(ctx.engine) as session:
        replace_stage_rows(session, ctx.job_id, TranscriptRow, rows)
    return StageResult(
        agent_name=agent, rows=len(rows),
        metadata={"model": transcript.model, "language": transcript.language,
                  "words": len(transcript.words), "notes": notes + transcript.metadata.get("notes", []),
                  **{k: v for k, v in transcript.metadata.items() if k != "notes"}},
    )


STAGE = Stage(
    name="transcription", step=1, cost=0.06, remote_cost=0.015, timeout_per_minute=180,
    agent=lambda settings: "openai-whisper" if settings.transcriber == "openai" else "faster-whisper",
    message="Transcribing speech",
)


@task(name=STAGE.name, task_run_name="transcription [{job_id}]", **TASK_DEFAULTS)
def transcription_task(job_id: str, duration: float | None = None) -> dict[str, Any]:
    """Timed text of one job's speech, with progress while the model decodes."""
    return run(StageContext(job_id), duration, progress_reporter(job_id, STAGE.name)).to_dict()
