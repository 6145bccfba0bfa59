"""Integrity rules enforced by the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

import db.models as orm
from db.engine import session_scope
from db.models import CHILD_MODELS
from tests.services import add_sample_job


def count(session, model, job_id: str) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model).where(model.job_id == job_id))


def make_row(model, job_id: str, value: str):  # noqa: ANN001, ANN201
    """A row whose constrained column holds `value` (everything else valid)."""
    if model is orm.Job:
        return orm.Job(
            job_id=job_id,
            filename="a.mp4",
            file_size=1,
            content_type="video/mp4",
            original_s3_key="k",
            status=value,
        )
    if model is orm.SilenceRow:
        return orm.SilenceRow(
            job_id=job_id, start_time=0, end_time=1, duration=1, silence_type=value
        )
    if model is orm.LayoutAnalysis:
        region = {"x": 0, "y": 0, "width": 1, "height": 1}
        return orm.LayoutAnalysis(
            job_id=job_id,
            screen_region=region,
            camera_region=region,
            split_ratio=1.0,
            layout_type=value,
        )
    stage, _, status = value.partition("/")
    return orm.ProcessingLog(job_id=job_id, stage=stage, status=status)


CASES = [
    (orm.Job, "queued", "paused", "ck_jobs_status"),
    (orm.Job, "failed", "COMPLETED", "ck_jobs_status"),
    (orm.SilenceRow, "blank_screen", "quiet", "ck_silence_regions_silence_type"),
    (orm.LayoutAnalysis, "picture_in_picture", "grid", "ck_layout_analysis_layout_type"),
    (orm.ProcessingLog, "transcription/started", "transcribing/started", "ck_processing_logs_stage"),
    (orm.ProcessingLog, "compilation/failed", "compilation/crashed", "ck_processing_logs_status"),
]


@pytest.mark.parametrize(("model", "good", "bad", "constraint"), CASES)
def test_check_constraints_refuse_unknown_values(engine: Engine, model, good, bad, constraint):  # noqa: ANN001
    with session_scope(engine) as session:
        session.add_all([make_row(orm.Job, "job_a", "queued"), make_row(orm.Job, "job_b", "queued")])
    # The good value is accepted, so the failure below is the CHECK and nothing else.
    with session_scope(engine) as session:
        session.add(make_row(model, "job_c" if model is orm.Job else "job_a", good))
    with pytest.raises(IntegrityError) as error, session_scope(engine) as session:
        session.add(make_row(model, "job_d" if model is orm.Job else "job_b", bad))
    assert constraint in str(error.value)


def test_deleting_a_job_in_sql_removes_its_rows_from_all_six_tables(engine: Engine):
    with session_scope(engine) as session:
        doomed = add_sample_job(session).job_id
        kept = add_sample_job(session).job_id
    with session_scope(engine) as session:
        assert all(count(session, model, doomed) >= 1 for model in CHILD_MODELS)
    # Plain SQL, as an operator would: the database cascades, not the ORM.
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM jobs WHERE job_id = :j"), {"j": doomed})
    with session_scope(engine) as session:
        assert [count(session, model, doomed) for model in CHILD_MODELS] == [0] * 6
        assert [count(session, model, kept) for model in CHILD_MODELS] == [1] * 6


def test_deleting_a_loaded_job_through_the_orm_cascades_too(engine: Engine):
    with session_scope(engine) as session:
        job_id = add_sample_job(session).job_id
    with session_scope(engine) as session:
        job = session.scalars(select(orm.Job).where(orm.Job.job_id == job_id)).one()
        assert len(job.clips) == 1 and job.layout is not None  # children loaded in the session
        session.delete(job)
    with session_scope(engine) as session:
        assert [count(session, model, job_id) for model in CHILD_MODELS] == [0] * 6


def test_a_job_has_at_most_one_layout(engine: Engine):
    with session_scope(engine) as session:
        job_id = add_sample_job(session).job_id
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(make_row(orm.LayoutAnalysis, job_id, "full_screen"))
    with session_scope(engine) as session:
        assert count(session, orm.LayoutAnalysis, job_id) == 1


def test_rows_need_an_existing_job(engine: Engine):
    # On SQLite this only holds because make_engine turns foreign keys on.
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(make_row(orm.SilenceRow, "job_missing", "both"))


def test_public_ids_are_unique(engine: Engine):
    with session_scope(engine) as session:
        add_sample_job(session, "job_same")
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        add_sample_job(session, "job_same")


def test_deleting_a_segment_deletes_its_clip(engine: Engine):
    # The seed: every relationship cascades on delete (migration 0002).
    with session_scope(engine) as session:
        job_id = add_sample_job(session).job_id
        assert count(session, orm.Clip, job_id) == 1
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM content_segments WHERE job_id = :j"), {"j": job_id})
    with session_scope(engine) as session:
        assert count(session, orm.Clip, job_id) == 0
        assert count(session, orm.ContentSegment, job_id) == 0


def test_defaults_and_timestamps_are_filled_in(engine: Engine):
    before = datetime.now(UTC)
    with session_scope(engine) as session:
        job = add_sample_job(session, status="queued")
        job_id = job.job_id
        created, updated = job.created_at, job.updated_at
    assert job.metadata_ == {} and job.video_metadata == {} and job.progress_percent == 0.0
    with session_scope(engine) as session:
        job = session.scalars(select(orm.Job).where(orm.Job.job_id == job_id)).one()
        assert job.created_at.tzinfo is not None and job.created_at.utcoffset().total_seconds() == 0
        assert before <= job.created_at <= datetime.now(UTC)
        job.status = "running"
    with session_scope(engine) as session:
        job = session.scalars(select(orm.Job).where(orm.Job.job_id == job_id)).one()
        assert job.created_at == created
        assert job.updated_at > updated


def test_rows_inserted_with_plain_sql_get_server_defaults(engine: Engine):
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO jobs (job_id, filename, file_size, content_type, original_s3_key, "
                "status) VALUES ('job_sql', 'a.mp4', 5000000000, 'video/mp4', 'k', 'queued')"
            )
        )
    with session_scope(engine) as session:
        job = session.scalars(select(orm.Job).where(orm.Job.job_id == "job_sql")).one()
        assert job.metadata_ == {} and job.video_metadata == {}
        assert job.progress_percent == 0.0 and job.file_size == 5_000_000_000
        assert abs((datetime.now(UTC) - job.created_at).total_seconds()) < 120
        assert job.updated_at is not None


def test_orm_relationships_follow_the_seed(engine: Engine):
    with session_scope(engine) as session:
        add_sample_job(session, "job_rel")
        session.add(
            orm.ProcessingLog(
                job_id="job_rel",
                stage="complete",
                status="completed",
                created_at=datetime(2020, 1, 1, tzinfo=UTC),  # older than the sample's log
            )
        )
    with session_scope(engine) as session:
        job = session.scalars(select(orm.Job).where(orm.Job.job_id == "job_rel")).one()
        assert [log.stage for log in job.logs] == ["complete", "uploading"]
        assert job.layout.layout_type == "side_by_side"  # one-to-one: an object, not a list
        segment = job.content_segments[0]
        assert segment.clip is job.clips[0] and job.clips[0].content_segment is segment
        assert job.transcripts[0].job is job
