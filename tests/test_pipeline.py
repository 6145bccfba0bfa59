"""The real flow, end to end, on a short generated lecture.

Runs Prefect (ephemeral mode), the local transcriber and analyzer, real ffmpeg, once on
SQLite with local storage and once on PostgreSQL with the S3 server on loopback.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import db.models as orm
from db.engine import get_engine, session_scope
from db.migrate import init_db
from db.models import STAGES
from highlights.settings import Settings, load_settings
from highlights.storage import open_storage

LECTURES = Path(__file__).parent / "fixtures" / "lectures"
SCREEN = LECTURES / "screen.mp4"
CHILD_TABLES = (orm.TranscriptRow, orm.SilenceRow, orm.LayoutAnalysis, orm.ContentSegment, orm.Clip, orm.ProcessingLog)


@pytest.fixture(params=["sqlite-local", pytest.param("postgresql-s3", marks=pytest.mark.postgres)])
def pipeline_settings(request: pytest.FixtureRequest, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> Settings:
    if request.param == "sqlite-local":
        monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.db'}")
        monkeypatch.setenv("HIGHLIGHTS_STORAGE_URL", str(tmp_path / "store"))
    else:
        monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", request.getfixturevalue("postgres_url"))
        request.getfixturevalue("s3_env")  # sets HIGHLIGHTS_STORAGE_URL / endpoint / AWS vars
    monkeypatch.setenv("HIGHLIGHTS_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("HIGHLIGHTS_RETRY_DELAYS", "0.2")
    settings = load_settings()
    init_db(settings.database_url)
    return settings


def run(settings: Settings, source: Path | str | None, options: dict[str, Any] | None = None,
        job_id: str | None = None, resume: bool = False) -> tuple[str, Any]:
    """Run the flow in this process; return the job id and the flow's final state."""
    from flows.jobs import create_job
    from flows.lecture import process_lecture

    if job_id is None:
        job_id = create_job(settings, str(source), options or {})
    state = process_lecture(job_id=job_id, resume=resume, return_state=True)
    return job_id, state


def table_counts(settings: Settings, job_id: str) -> dict[str, int]:
    with session_scope(get_engine(settings)) as session:
        return {model.__tablename__: session.scalar(
                    select(func.count()).select_from(model).where(model.job_id == job_id))
                for model in CHILD_TABLES}


def logs(settings: Settings, job_id: str) -> list[orm.ProcessingLog]:
    with session_scope(get_engine(settings)) as session:
        return list(session.scalars(select(orm.ProcessingLog).where(orm.ProcessingLog.job_id == job_id)
                                    .order_by(orm.ProcessingLog.created_at, orm.ProcessingLog.id)))


def job_row(settings: Settings, job_id: str) -> orm.Job:
    with session_scope(get_engine(settings)) as session:
        return session.scalars(select(orm.Job).where(orm.Job.job_id == job_id)).one()


def test_lecture_flow_end_to_end(pipeline_settings: Settings) -> None:
    settings = pipeline_settings
    job_id, state = run(settings, SCREEN, {"clips": 2})
    assert state.is_completed(), state.message

    job = job_row(settings, job_id)
    assert job.status == "completed", job.error_message
    assert job.progress_percent == 100.0
    assert job.completed_at is not None
    assert job.celery_task_id == str(state.state_details.flow_run_id)
    assert job.content_type == "video/mp4"
    assert job.file_size == SCREEN.stat().st_size
    assert job.video_duration == pytest.approx(json.loads(SCREEN.with_suffix(".json").read_text())["duration"], abs=0.2)
    assert job.original_s3_key == f"uploads/{job_id}/screen.mp4"

    counts = table_counts(settings, job_id)
    assert all(counts[name] > 0 for name in counts), counts
    assert counts["layout_analysis"] == 1

    entries = logs(settings, job_id)
    statuses = Counter((e.stage, e.status) for e in entries)
    for stage in STAGES:
        assert statuses[(stage, "started")] == 1, (stage, statuses)
        assert statuses[(stage, "completed")] == 1, (stage, statuses)
    assert not any(e.status == "failed" for e in entries)
    completed = {e.stage: e for e in entries if e.status == "completed"}
    assert completed["transcription"].agent_name == "faster-whisper"
    assert completed["transcription"].metadata_["rows"] == counts["transcripts"]
    assert all(e.duration_seconds is not None and e.duration_seconds >= 0 for e in completed.values())

    # The analysis branches ran at the same time: transcription beside the visual branch
    # (layout_analysis, which decodes the picture, then silence_detection on its samples).
    started = {e.stage: e.created_at for e in entries if e.status == "started"}
    ended = {stage: entry.created_at for stage, entry in completed.items()}
    assert started["transcription"] < ended["layout_analysis"], (started, ended)
    assert started["layout_analysis"] < ended["transcription"], (started, ended)
    assert ended["uploading"] <= min(started["transcription"], started["layout_analysis"])
    assert ended["layout_analysis"] <= started["silence_detection"], (started, ended)
    assert max(ended[s] for s in ("transcription", "silence_detection")) <= started["content_analysis"]

    storage = open_storage(settings)
    with session_scope(get_engine(settings)) as session:
        clips = list(session.scalars(select(orm.Clip).where(orm.Clip.job_id == job_id).order_by(orm.Clip.clip_order)))
        segments = {s.segment_id: s for s in session.scalars(
            select(orm.ContentSegment).where(orm.ContentSegment.job_id == job_id))}
    assert [c.clip_order for c in clips] == list(range(1, len(clips) + 1))
    for clip in clips:
        for key in (clip.s3_key, clip.thumbnail_s3_key, clip.subtitle_s3_key, clip.metadata_["vtt_s3_key"]):
            assert key and key.startswith(f"results/{job_id}/") and storage.exists(key), key
        assert storage.size(clip.s3_key) == clip.metadata_["file_size"]
        segment = segments[clip.content_segment_id]
        assert clip.topic == segment.topic and clip.importance_score == pytest.approx(segment.importance_score)
        assert segment.start_time - 1.0 <= clip.start_time < clip.end_time <= segment.end_time + 1.0
    assert storage.exists(f"results/{job_id}/transcript.srt")

    # The slides were read once each, and their titles name the topics.
    truth = json.loads(SCREEN.with_suffix(".json").read_text())
    slides = json.loads(storage.read_bytes(f"results/{job_id}/slides.json"))["slides"]
    assert slides and all(s["title"] and 0 <= s["confidence"] <= 1 for s in slides), slides
    assert completed["layout_analysis"].metadata_["slide_text"]["slides_with_text"] == len(slides)
    with session_scope(get_engine(settings)) as session:
        topics = list(session.scalars(select(orm.ContentSegment.topic).where(
            orm.ContentSegment.job_id == job_id).order_by(orm.ContentSegment.segment_order)))
    assert topics == [t["title"] for t in truth["topics"]], topics
    # "Filling" is on a slide ("Filling the table") and never said: search finds it there.
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, ["search", job_id, "filling", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    filling = next(s for s in slides if "filling" in s["title"].lower())
    assert hits[0] == {"start_time": filling["start"], "end_time": filling["end"], "source": "slide",
                       "text": filling["title"], "topic": truth["topics"][0]["title"]}, hits
    # Scratch files are gone once the job is complete.
    assert not storage.list(f"work/{job_id}/")
    assert not (settings.work_dir / job_id).exists()


def test_slide_reading_switched_off_titles_topics_from_the_speech(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.db'}")
    monkeypatch.setenv("HIGHLIGHTS_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.setenv("HIGHLIGHTS_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("HIGHLIGHTS_SLIDE_TEXT", "off")
    settings = load_settings()
    init_db(settings.database_url)
    # No clip options: the default plan (five clips of up to 90 s) is kept to a quarter of
    # this 112-s lecture, one clip of at most 30 s (the minimum), and the log says so.
    job_id, state = run(settings, SCREEN, {})
    assert state.is_completed(), state.message
    entries = logs(settings, job_id)
    plan = next(e for e in entries if e.stage == "segmentation" and e.status == "completed")
    assert plan.metadata_["options"]["count"] == 1
    assert plan.metadata_["options"]["max_seconds"] == 30.0
    assert any("1 clip of at most 30 s" in note for note in plan.metadata_["notes"])
    assert table_counts(settings, job_id)["clips"] == 1
    layout = next(e for e in entries
                  if e.stage == "layout_analysis" and e.status == "completed")
    assert layout.metadata_["slide_text"] is None
    assert any("HIGHLIGHTS_SLIDE_TEXT=off" in note for note in layout.metadata_["notes"])
    storage = open_storage(settings)
    assert json.loads(storage.read_bytes(f"results/{job_id}/slides.json"))["slides"] == []
    with session_scope(get_engine(settings)) as session:
        topics = list(session.scalars(select(orm.ContentSegment.topic).where(
            orm.ContentSegment.job_id == job_id)))
    assert topics and all(topics), topics  # lexical titles, from the speech


class FlakyTranscriber:
    """Wraps the real local transcriber; the first call fails like a rejected API key."""

    calls = 0

    def __init__(self, real: Any) -> None:
        self.real = real
        self.name = real.name
        self.model = real.model

    def transcribe(self, *args: Any, **kwargs: Any) -> Any:
        from highlights.transcription import TranscriptionError

        type(self).calls += 1
        if type(self).calls == 1:
            raise TranscriptionError("the provider rejected the request: test double failure", transient=False)
        return self.real.transcribe(*args, **kwargs)


def test_failed_stage_then_retry_completes_without_duplicates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.db'}")
    monkeypatch.setenv("HIGHLIGHTS_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.setenv("HIGHLIGHTS_WORK_DIR", str(tmp_path / "work"))
    settings = load_settings()
    init_db(settings.database_url)

    import tasks.transcription as stage

    real_factory = stage.get_transcriber
    FlakyTranscriber.calls = 0
    monkeypatch.setattr(stage, "get_transcriber", lambda s: FlakyTranscriber(real_factory(s)))

    job_id, state = run(settings, SCREEN, {"clips": 1})
    assert state.is_failed()
    job = job_row(settings, job_id)
    assert job.status == "failed"
    assert job.error_message.startswith("transcription: ")
    assert "test double failure" in job.error_message
    failed = [e for e in logs(settings, job_id) if e.status == "failed"]
    assert [e.stage for e in failed] == ["transcription"]
    assert "test double failure" in failed[0].error_message
    assert FlakyTranscriber.calls == 1  # a permanent error is not retried
    before = table_counts(settings, job_id)
    assert before["silence_regions"] > 0 and before["layout_analysis"] == 1 and before["clips"] == 0

    _, state = run(settings, None, job_id=job_id, resume=True)
    assert state.is_completed(), state.message
    job = job_row(settings, job_id)
    assert job.status == "completed" and job.error_message is None
    after = table_counts(settings, job_id)
    assert after["silence_regions"] == before["silence_regions"]
    assert after["layout_analysis"] == 1
    assert after["clips"] == 1
    # Finished stages were reused: uploading and the sibling branches ran once.
    started = Counter(e.stage for e in logs(settings, job_id) if e.status == "started")
    assert started["uploading"] == 1 and started["silence_detection"] == 1
    assert started["layout_analysis"] == 1 and started["transcription"] == 2
    with session_scope(get_engine(settings)) as session:
        spans = [(t.start_time, t.end_time, t.text)
                 for t in session.scalars(select(orm.TranscriptRow).where(orm.TranscriptRow.job_id == job_id))]
    assert len(spans) == len(set(spans)), "a re-run duplicated transcript rows"


@pytest.mark.postgres
def test_three_concurrent_jobs_on_postgresql(postgres_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Three lectures at once against one PostgreSQL: all complete, no lock errors, no mix-ups."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("HIGHLIGHTS_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.setenv("HIGHLIGHTS_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("HIGHLIGHTS_RETRY_DELAYS", "0.2")
    settings = load_settings()
    init_db(settings.database_url)
    sources = []
    for i in range(3):  # distinct files, so each job's upload is its own object
        copy = tmp_path / f"lecture-{i}.mp4"
        copy.write_bytes(SCREEN.read_bytes())
        sources.append(copy)

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(lambda src: run(settings, src, {"clips": 1}), sources))

    job_ids = [job_id for job_id, _ in outcomes]
    assert len(set(job_ids)) == 3
    for (job_id, state), source in zip(outcomes, sources, strict=True):
        assert state.is_completed(), state.message
        job = job_row(settings, job_id)
        assert job.status == "completed", job.error_message
        assert job.original_s3_key == f"uploads/{job_id}/{source.name}"
        entries = logs(settings, job_id)
        assert not [e for e in entries if e.status == "failed"], [e.error_message for e in entries]
        assert Counter(e.status for e in entries) == {"started": len(STAGES), "completed": len(STAGES)}
        counts = table_counts(settings, job_id)
        assert counts["clips"] == 1 and counts["layout_analysis"] == 1 and counts["transcripts"] > 0
