"""The seed's common queries and maintenance, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

import db.models as orm
from db import loaders, queries
from db.engine import session_scope
from db.models import CHILD_MODELS
from tests.services import add_sample_job

T0 = datetime(2025, 10, 13, 9, 0, tzinfo=UTC)


def new_job(
    session, job_id: str, status: str = "queued", created_at: datetime | None = None
) -> orm.Job:  # noqa: ANN001
    job = orm.Job(
        job_id=job_id,
        filename=f"{job_id}.mp4",
        file_size=1000,
        content_type="video/mp4",
        original_s3_key=f"uploads/{job_id}/{job_id}.mp4",
        status=status,
    )
    if created_at is not None:
        job.created_at = created_at
    session.add(job)
    session.flush()
    return job


def clip(job_id: str, order: int | None, score: float | None, title: str) -> orm.Clip:
    return orm.Clip(
        job_id=job_id,
        title=title,
        importance_score=score,
        clip_order=order,
        start_time=float(order or 0) * 60,
        end_time=float(order or 0) * 60 + 45,
        duration=45.0,
        s3_key=f"results/{job_id}/{title}.mp4",
    )


@pytest.fixture
def filled(engine: Engine) -> str:
    """One job whose rows were inserted out of order, plus a second job as noise."""
    with session_scope(engine) as session:
        new_job(session, "job_1", "completed")
        add_sample_job(session, "job_noise")
        session.add_all(
            [
                orm.TranscriptRow(job_id="job_1", start_time=20.0, end_time=25.0, text="second"),
                orm.TranscriptRow(job_id="job_1", start_time=5.0, end_time=9.5, text="first", confidence=0.9),
                orm.TranscriptRow(job_id="job_1", start_time=40.0, end_time=41.0, text="third"),
                orm.SilenceRow(job_id="job_1", start_time=30, end_time=32, duration=2, silence_type="both"),
                orm.SilenceRow(
                    job_id="job_1", start_time=1, end_time=4, duration=3, silence_type="audio_silence"
                ),
                orm.ContentSegment(
                    job_id="job_1", start_time=60, end_time=120, duration=60, topic="B",
                    importance_score=0.4, segment_order=2,
                ),
                orm.ContentSegment(
                    job_id="job_1", start_time=0, end_time=60, duration=60, topic="A",
                    importance_score=0.9, segment_order=1,
                ),
                clip("job_1", 3, 0.5, "c3"),
                clip("job_1", None, None, "unscored"),
                clip("job_1", 1, 0.95, "c1"),
                clip("job_1", 2, 0.7, "c2"),
                orm.LayoutAnalysis(
                    job_id="job_1", screen_region={"x": 0, "y": 0, "width": 1, "height": 1},
                    camera_region={"x": 0, "y": 0, "width": 0, "height": 0}, split_ratio=1.0,
                    layout_type="full_screen",
                ),
            ]
        )  # fmt: skip
        for minute, (stage, status) in enumerate(
            [("uploading", "started"), ("uploading", "completed"), ("transcription", "started"),
             ("transcription", "failed")]
        ):  # fmt: skip
            session.add(
                orm.ProcessingLog(
                    job_id="job_1",
                    stage=stage,
                    status=status,
                    agent_name="faster-whisper" if stage == "transcription" else None,
                    duration_seconds=float(minute),
                    created_at=T0 + timedelta(minutes=3 - minute),  # inserted newest first
                )
            )
    return "job_1"


def test_job_bundle_has_every_table_in_order(engine: Engine, filled: str):
    with session_scope(engine) as session:
        bundle = queries.get_job_bundle(session, filled)
        assert bundle is not None and bundle.job.job_id == filled
        assert [t.text for t in bundle.transcripts] == ["first", "second", "third"]
        assert [r.start_time for r in bundle.silence_regions] == [1.0, 30.0]
        assert bundle.layout is not None and bundle.layout.layout_type == "full_screen"
        assert [s.topic for s in bundle.content_segments] == ["A", "B"]
        assert [c.title for c in bundle.clips] == ["c1", "c2", "c3", "unscored"]
        assert [(log.stage, log.status) for log in bundle.logs] == [
            ("transcription", "failed"),
            ("transcription", "started"),
            ("uploading", "completed"),
            ("uploading", "started"),
        ]  # by created_at, not insertion order
        assert queries.get_job_bundle(session, "job_missing") is None


def test_top_clips_by_importance(engine: Engine, filled: str):
    with session_scope(engine) as session:
        assert [c.title for c in queries.top_clips(session, filled, limit=2)] == ["c1", "c2"]
        # Unscored clips come last, also on PostgreSQL where NULL sorts first in DESC.
        assert [c.title for c in queries.top_clips(session, filled, limit=10)] == [
            "c1", "c2", "c3", "unscored",
        ]  # fmt: skip
        with pytest.raises(queries.QueryError, match="limit"):
            queries.top_clips(session, filled, limit=0)


def test_processing_timeline_is_chronological(engine: Engine, filled: str):
    with session_scope(engine) as session:
        timeline = queries.processing_timeline(session, filled)
    assert [e.created_at for e in timeline] == [T0 + timedelta(minutes=m) for m in range(4)]
    assert timeline[0] == queries.TimelineEntry(
        "transcription", "faster-whisper", "failed", 3.0, T0
    )


def test_full_transcript(engine: Engine, filled: str):
    with session_scope(engine) as session:
        lines = queries.full_transcript(session, filled)
        assert lines[0] == queries.TranscriptLine(5.0, 9.5, "first", 0.9)
        assert queries.transcript_text(session, filled) == "first second third"
        assert queries.full_transcript(session, "job_missing") == []


def test_list_jobs_newest_first_with_status_filter(engine: Engine):
    with session_scope(engine) as session:
        for day, (job_id, status) in enumerate(
            [("job_old", "completed"), ("job_mid", "failed"), ("job_new", "completed")]
        ):
            new_job(session, job_id, status, created_at=T0 + timedelta(days=day))
    with session_scope(engine) as session:
        assert [j.job_id for j in queries.list_jobs(session)] == ["job_new", "job_mid", "job_old"]
        assert [j.job_id for j in queries.list_jobs(session, status="completed")] == [
            "job_new",
            "job_old",
        ]
        assert [j.job_id for j in queries.list_jobs(session, limit=1, offset=1)] == ["job_mid"]
        assert queries.list_jobs(session, status="running") == []
        with pytest.raises(queries.QueryError, match="'done' is not valid"):
            queries.list_jobs(session, status="done")


def test_delete_job(engine: Engine, filled: str):
    with session_scope(engine) as session:
        assert queries.delete_job(session, filled) is True
        assert queries.delete_job(session, filled) is False
    with session_scope(engine) as session:
        assert queries.get_job(session, filled) is None
        for model in CHILD_MODELS:
            rows = session.scalar(
                select(func.count()).select_from(model).where(model.job_id == filled)
            )
            assert rows == 0, model.__tablename__
        assert queries.get_job(session, "job_noise") is not None


def test_cleanup_deletes_only_finished_jobs_older_than_n_days(engine: Engine):
    now = datetime.now(UTC)
    ages = {
        "job_old_done": ("completed", 40),
        "job_old_failed": ("failed", 31),
        "job_old_running": ("running", 90),
        "job_old_queued": ("queued", 90),
        "job_recent_done": ("completed", 29),
        "job_today_failed": ("failed", 0),
    }
    with session_scope(engine) as session:
        for job_id, (status, days) in ages.items():
            new_job(session, job_id, status, created_at=now - timedelta(days=days, minutes=1))
        add_sample_job(session, "job_old_with_rows").created_at = now - timedelta(days=60)
    with session_scope(engine) as session:
        deleted = queries.delete_old_jobs(session, older_than_days=30)
    assert sorted(deleted) == ["job_old_done", "job_old_failed", "job_old_with_rows"]
    with session_scope(engine) as session:
        left = {j.job_id for j in queries.list_jobs(session)}
        assert left == {"job_old_running", "job_old_queued", "job_recent_done", "job_today_failed"}
        assert session.scalar(select(func.count()).select_from(orm.TranscriptRow)) == 0
        assert queries.delete_old_jobs(session, older_than_days=30) == []
        with pytest.raises(queries.QueryError):
            queries.delete_old_jobs(session, older_than_days=-1)


def test_table_sizes(engine: Engine, filled: str):
    with session_scope(engine) as session:
        sizes = {s.table: s for s in queries.table_sizes(session)}
    assert set(sizes) == {
        "jobs", "transcripts", "silence_regions", "layout_analysis", "content_segments",
        "clips", "processing_logs",
    }  # fmt: skip
    assert sizes["jobs"].rows == 2 and sizes["clips"].rows == 5 and sizes["transcripts"].rows == 4
    if engine.dialect.name == "postgresql":
        assert all(s.total_bytes and s.total_bytes > 0 for s in sizes.values())
        assert sizes["transcripts"].pretty.endswith(("bytes", "kB", "MB"))
    else:
        assert all(s.total_bytes is None for s in sizes.values())
        assert sizes["clips"].pretty == "5 rows"


def transcript_rows(texts: list[str]) -> list[dict]:
    return [
        {"start_time": float(i), "end_time": i + 0.9, "text": text} for i, text in enumerate(texts)
    ]


def test_replacing_stage_rows_never_duplicates(engine: Engine, filled: str):
    for attempt in ("one", "two"):
        with session_scope(engine) as session:
            loaders.replace_stage_rows(
                session, filled, orm.TranscriptRow, transcript_rows([f"{attempt} a", f"{attempt} b"])
            )
    with session_scope(engine) as session:
        assert queries.transcript_text(session, filled) == "two a two b"
        noise = queries.transcript_text(session, "job_noise")
        assert noise == "Today we discuss trees."  # another job's rows are untouched


def test_replacing_the_layout_respects_one_per_job(engine: Engine, filled: str):
    region = {"x": 0, "y": 0, "width": 0.7, "height": 1}
    for layout_type in ("side_by_side", "picture_in_picture"):
        with session_scope(engine) as session:
            row = orm.LayoutAnalysis(
                screen_region=region, camera_region=region, split_ratio=0.7, layout_type=layout_type
            )
            loaders.replace_stage_rows(session, filled, orm.LayoutAnalysis, [row])
    with session_scope(engine) as session:
        bundle = queries.get_job_bundle(session, filled)
        assert bundle.layout.layout_type == "picture_in_picture"


def test_a_failed_replacement_keeps_the_earlier_rows(engine: Engine, filled: str):
    bad = [
        orm.SilenceRow(start_time=0, end_time=1, duration=1, silence_type="both"),
        orm.SilenceRow(start_time=2, end_time=3, duration=1, silence_type="loud"),
    ]
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        loaders.replace_stage_rows(session, filled, orm.SilenceRow, bad)
    with session_scope(engine) as session:
        regions = queries.get_job_bundle(session, filled).silence_regions
        assert [r.start_time for r in regions] == [1.0, 30.0]


def test_replacing_rows_of_a_missing_job_names_it(engine: Engine):
    with pytest.raises(queries.JobNotFoundError, match="job_ghost"), session_scope(engine) as s:
        loaders.replace_stage_rows(s, "job_ghost", orm.TranscriptRow, transcript_rows(["x"]))
    with pytest.raises(queries.QueryError), session_scope(engine) as s:
        loaders.replace_stage_rows(s, "job_ghost", orm.Job, [])


def test_concurrent_stages_can_write_at_once(engine: Engine, filled: str):
    """The three parallel branches each replace their rows repeatedly, at the same time."""
    errors: list[BaseException] = []
    region = {"x": 0, "y": 0, "width": 1, "height": 1}

    def rows(model, n: int) -> list:  # noqa: ANN001
        if model is orm.TranscriptRow:
            return transcript_rows([f"t{n}"] * 3)
        if model is orm.SilenceRow:
            return [
                {"start_time": n, "end_time": n + 1, "duration": 1, "silence_type": "both"}
                for _ in range(3)
            ]
        return [
            {"screen_region": region, "camera_region": region, "split_ratio": 1.0,
             "layout_type": "full_screen", "sample_frame_time": float(n)}
        ]  # fmt: skip

    def stage(model) -> None:  # noqa: ANN001
        try:
            for n in range(15):
                with session_scope(engine) as session:
                    loaders.replace_stage_rows(session, filled, model, rows(model, n))
                    session.get(orm.Job, 1)  # a read in the same transaction, as tasks do
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the test
            errors.append(exc)

    threads = [
        threading.Thread(target=stage, args=(m,))
        for m in (orm.TranscriptRow, orm.SilenceRow, orm.LayoutAnalysis)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with session_scope(engine) as session:
        bundle = queries.get_job_bundle(session, filled)
        assert [t.text for t in bundle.transcripts] == ["t14"] * 3
        assert [r.start_time for r in bundle.silence_regions] == [14.0] * 3
        assert bundle.layout.sample_frame_time == 14.0


LECTURES = Path(__file__).parent / "fixtures" / "lectures"


@pytest.mark.parametrize("name", sorted(p.stem for p in LECTURES.glob("*.json")))
def test_a_generated_lecture_ground_truth_survives_the_round_trip(engine: Engine, name: str):
    """The stage results of a real generated lecture, written and read back unchanged."""
    truth = json.loads((LECTURES / f"{name}.json").read_text())
    pauses = [(p["start"], p["end"], "audio_silence") for p in truth["pauses"]]
    if truth.get("blank"):
        pauses.append((truth["blank"]["start"], truth["blank"]["end"], "blank_screen"))
    with session_scope(engine) as session:
        new_job(session, "job_lecture", "running").video_duration = truth["duration"]
        loaders.replace_stage_rows(session, "job_lecture", orm.TranscriptRow, [
            {"start_time": s["start"], "end_time": s["end"], "text": s["text"]}
            for s in reversed(truth["speech"])
        ])  # fmt: skip
        loaders.replace_stage_rows(session, "job_lecture", orm.SilenceRow, [
            {"start_time": a, "end_time": b, "duration": b - a, "silence_type": kind}
            for a, b, kind in pauses
        ])  # fmt: skip
        layout = truth["layout"]
        loaders.replace_stage_rows(session, "job_lecture", orm.LayoutAnalysis, [{
            "screen_region": layout["screen_region"], "camera_region": layout["camera_region"],
            "split_ratio": layout["screen_region"]["width"], "layout_type": layout["layout_type"],
        }])  # fmt: skip
        loaders.replace_stage_rows(session, "job_lecture", orm.ContentSegment, [
            {"start_time": t["start"], "end_time": t["end"], "duration": t["end"] - t["start"],
             "topic": t["title"], "importance_score": 0.9 if t["important"] else 0.3,
             "keywords": t["keywords"], "segment_order": i + 1}
            for i, t in enumerate(truth["topics"])
        ])  # fmt: skip
    with session_scope(engine) as session:
        bundle = queries.get_job_bundle(session, "job_lecture")
        assert queries.transcript_text(session, "job_lecture") == truth["transcript"]
    assert bundle.job.video_duration == truth["duration"]
    assert bundle.layout.screen_region == layout["screen_region"]
    assert bundle.layout.camera_region == layout["camera_region"]
    assert bundle.layout.layout_type == layout["layout_type"]
    assert [r.start_time for r in bundle.silence_regions] == sorted(a for a, _, _ in pauses)
    assert [s.topic for s in bundle.content_segments] == [t["title"] for t in truth["topics"]]
    assert [s.keywords for s in bundle.content_segments] == [t["keywords"] for t in truth["topics"]]
