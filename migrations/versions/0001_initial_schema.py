"""The seven tables of the seed schema (jobs and its six child tables).

Written by hand to match db/models.py; tests/test_db_migrations.py checks that
autogenerate finds no difference on SQLite and PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2025-10-13
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_STATUSES = ("queued", "running", "completed", "failed")
SILENCE_TYPES = ("audio_silence", "blank_screen", "both")
LAYOUT_TYPES = ("side_by_side", "picture_in_picture", "full_screen", "split_vertical", "custom")
STAGES = (
    "uploading",
    "silence_detection",
    "transcription",
    "layout_analysis",
    "content_analysis",
    "segmentation",
    "compilation",
    "complete",
)
LOG_STATUSES = ("started", "completed", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
    )


def _job_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["job_id"], ["jobs.job_id"], name=op.f(f"fk_{table}_job_id_jobs"), ondelete="CASCADE"
    )


def _json(name: str, default: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), server_default=sa.text(f"'{default}'"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "jobs",
        _id(),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("original_s3_key", sa.String(length=500), nullable=False),
        sa.Column("video_duration", sa.Float(), nullable=True),
        _json("video_metadata", "{}"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("celery_task_id", sa.String(length=100), nullable=True),
        sa.Column("current_stage", sa.String(length=50), nullable=True),
        sa.Column("progress_percent", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("progress_message", sa.String(length=500), nullable=True),
        sa.Column("eta_seconds", sa.Integer(), nullable=True),
        _json("metadata", "{}"),
        _created_at(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_in("status", JOB_STATUSES), name=op.f("ck_jobs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_job_id"), "jobs", ["job_id"], unique=True)
    op.create_index(op.f("ix_jobs_status"), "jobs", ["status"])
    op.create_index(op.f("ix_jobs_celery_task_id"), "jobs", ["celery_task_id"])
    op.create_index(op.f("ix_jobs_created_at"), "jobs", ["created_at"])

    op.create_table(
        "transcripts",
        _id(),
        sa.Column("segment_id", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("start_time", sa.Float(), nullable=False),
        sa.Column("end_time", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("speaker_id", sa.String(length=50), nullable=True),
        _created_at(),
        _job_fk("transcripts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
    )
    op.create_index(op.f("ix_transcripts_segment_id"), "transcripts", ["segment_id"], unique=True)
    op.create_index(op.f("ix_transcripts_job_id"), "transcripts", ["job_id"])
    op.create_index(op.f("ix_transcripts_start_time"), "transcripts", ["start_time"])

    op.create_table(
        "silence_regions",
        _id(),
        sa.Column("region_id", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("start_time", sa.Float(), nullable=False),
        sa.Column("end_time", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("silence_type", sa.String(length=20), nullable=False),
        sa.Column("amplitude_threshold", sa.Float(), nullable=True),
        _created_at(),
        sa.CheckConstraint(
            _in("silence_type", SILENCE_TYPES), name=op.f("ck_silence_regions_silence_type")
        ),
        _job_fk("silence_regions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence_regions")),
    )
    op.create_index(
        op.f("ix_silence_regions_region_id"), "silence_regions", ["region_id"], unique=True
    )
    op.create_index(op.f("ix_silence_regions_job_id"), "silence_regions", ["job_id"])
    op.create_index(op.f("ix_silence_regions_start_time"), "silence_regions", ["start_time"])

    op.create_table(
        "layout_analysis",
        _id(),
        sa.Column("layout_id", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("screen_region", sa.JSON(), nullable=False),
        sa.Column("camera_region", sa.JSON(), nullable=False),
        sa.Column("split_ratio", sa.Float(), nullable=False),
        sa.Column("layout_type", sa.String(length=30), nullable=False),
        sa.Column("confidence_score", sa.Float(), nullable=True),
        sa.Column("sample_frame_time", sa.Float(), nullable=True),
        _created_at(),
        sa.CheckConstraint(
            _in("layout_type", LAYOUT_TYPES), name=op.f("ck_layout_analysis_layout_type")
        ),
        _job_fk("layout_analysis"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layout_analysis")),
    )
    op.create_index(
        op.f("ix_layout_analysis_layout_id"), "layout_analysis", ["layout_id"], unique=True
    )
    # Unique: one layout per job.
    op.create_index(op.f("ix_layout_analysis_job_id"), "layout_analysis", ["job_id"], unique=True)

    op.create_table(
        "content_segments",
        _id(),
        sa.Column("segment_id", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("start_time", sa.Float(), nullable=False),
        sa.Column("end_time", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("importance_score", sa.Float(), nullable=False),
        _json("keywords", "[]"),
        _json("concepts", "[]"),
        sa.Column("segment_order", sa.Integer(), nullable=False),
        _created_at(),
        _job_fk("content_segments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_segments")),
    )
    op.create_index(
        op.f("ix_content_segments_segment_id"), "content_segments", ["segment_id"], unique=True
    )
    op.create_index(op.f("ix_content_segments_job_id"), "content_segments", ["job_id"])
    op.create_index(op.f("ix_content_segments_start_time"), "content_segments", ["start_time"])
    op.create_index(
        op.f("ix_content_segments_importance_score"), "content_segments", ["importance_score"]
    )
    op.create_index(
        op.f("ix_content_segments_segment_order"), "content_segments", ["segment_order"]
    )

    op.create_table(
        "clips",
        _id(),
        sa.Column("clip_id", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("content_segment_id", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=True),
        sa.Column("importance_score", sa.Float(), nullable=True),
        sa.Column("start_time", sa.Float(), nullable=False),
        sa.Column("end_time", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("s3_key", sa.String(length=500), nullable=False),
        sa.Column("thumbnail_s3_key", sa.String(length=500), nullable=True),
        sa.Column("subtitle_s3_key", sa.String(length=500), nullable=True),
        sa.Column("clip_order", sa.Integer(), nullable=True),
        _json("metadata", "{}"),
        _created_at(),
        _job_fk("clips"),
        # Re-running content analysis replaces segments without deleting the clips.
        sa.ForeignKeyConstraint(
            ["content_segment_id"],
            ["content_segments.segment_id"],
            name=op.f("fk_clips_content_segment_id_content_segments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clips")),
    )
    op.create_index(op.f("ix_clips_clip_id"), "clips", ["clip_id"], unique=True)
    op.create_index(op.f("ix_clips_job_id"), "clips", ["job_id"])
    op.create_index(op.f("ix_clips_content_segment_id"), "clips", ["content_segment_id"])
    op.create_index(op.f("ix_clips_importance_score"), "clips", ["importance_score"])
    op.create_index(op.f("ix_clips_clip_order"), "clips", ["clip_order"])

    op.create_table(
        "processing_logs",
        _id(),
        sa.Column("log_id", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=50), nullable=False),
        sa.Column("agent_name", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _json("metadata", "{}"),
        _created_at(),
        sa.CheckConstraint(_in("stage", STAGES), name=op.f("ck_processing_logs_stage")),
        sa.CheckConstraint(_in("status", LOG_STATUSES), name=op.f("ck_processing_logs_status")),
        _job_fk("processing_logs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processing_logs")),
    )
    op.create_index(op.f("ix_processing_logs_log_id"), "processing_logs", ["log_id"], unique=True)
    op.create_index(op.f("ix_processing_logs_job_id"), "processing_logs", ["job_id"])
    op.create_index(op.f("ix_processing_logs_stage"), "processing_logs", ["stage"])
    op.create_index(op.f("ix_processing_logs_created_at"), "processing_logs", ["created_at"])


def downgrade() -> None:
    # Children first: each holds a foreign key to jobs (and clips to content_segments).
    for table in (
        "processing_logs",
        "clips",
        "content_segments",
        "layout_analysis",
        "silence_regions",
        "transcripts",
        "jobs",
    ):
        op.drop_table(table)  # drops the table's indexes with it
