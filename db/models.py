"""The seven tables of the seed schema as SQLAlchemy 2.0 declarative models.

The database is the source of truth for integrity: `job_id` foreign keys cascade on
delete in SQL, so deleting a job through a plain DELETE (or from psql) removes its rows
everywhere; the ORM relationships use `passive_deletes=True` to leave that work to the
database instead of loading every child row first.

Deliberate choices where the seed is silent or unsafe (see tests/test_db_schema.py):
- columns the seed gives only a DEFAULT (the JSON columns, `progress_percent`) are NOT NULL
  with that default, so readers never have to handle a missing dict/list/number;
- `jobs.file_size` is BIGINT: INTEGER overflows at 2 GiB and lectures are often larger;
- timestamps are timezone-aware and always come back as UTC (`UTCDateTime`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, synonym

# Allowed values of the constrained text columns; other layers import these instead of
# repeating the strings.
JOB_STATUSES = ("queued", "running", "completed", "failed")
FINISHED_JOB_STATUSES = ("completed", "failed")
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

# Fixed constraint names make migrations deterministic and let errors name the rule.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A public identifier like the seed's samples: `job_3f2a...`, `seg_9b1c...`."""
    return f"{prefix}_{uuid.uuid4().hex}"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that always reads back as UTC on every engine.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as
    naive UTC there. Naive datetimes handed in are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Spelled as SQL rather than `func.now()`: Prefect's server code, when imported in the
# same process, recompiles `now()` for SQLite, which would make a migration written there
# differ from one written elsewhere. CURRENT_TIMESTAMP means the same on both engines.
CURRENT_TIMESTAMP = text("CURRENT_TIMESTAMP")


def _created_at(*, index: bool = False) -> Mapped[datetime]:
    # The Python default gives microsecond resolution on SQLite (whose CURRENT_TIMESTAMP
    # has whole seconds); the server default covers rows inserted with plain SQL.
    return mapped_column(
        UTCDateTime(), nullable=False, index=index, default=utcnow, server_default=CURRENT_TIMESTAMP
    )


def _json(default: str, name: str | None = None) -> Mapped[Any]:
    factory = dict if default == "{}" else list
    server_default = text(f"'{default}'")
    if name is None:
        return mapped_column(JSON, nullable=False, default=factory, server_default=server_default)
    return mapped_column(name, JSON, nullable=False, default=factory, server_default=server_default)


def _job_fk(*, unique: bool = False) -> Mapped[str]:
    return mapped_column(
        String(100),
        ForeignKey("jobs.job_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
        unique=unique or None,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        String(100), nullable=False, unique=True, index=True, default=lambda: new_id("job")
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    original_s3_key: Mapped[str] = mapped_column(String(500), nullable=False)
    video_duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    video_metadata: Mapped[dict[str, Any]] = _json("{}")
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True, default="queued")
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The Prefect flow run working on the job. The column keeps the seed's name
    # (`celery_task_id`); code says what it holds, and the seed's name stays a synonym.
    flow_run_id: Mapped[str | None] = mapped_column(
        "celery_task_id", String(100), nullable=True, index=True
    )
    celery_task_id: Mapped[str | None] = synonym("flow_run_id")
    current_stage: Mapped[str | None] = mapped_column(String(50), nullable=True)
    progress_percent: Mapped[float] = mapped_column(
        Float, nullable=False, default=0.0, server_default=text("0")
    )
    progress_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    eta_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # `metadata` is reserved on declarative classes, so the attribute has another name.
    metadata_: Mapped[dict[str, Any]] = _json("{}", name="metadata")
    created_at: Mapped[datetime] = _created_at(index=True)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(),
        nullable=False,
        default=utcnow,
        onupdate=utcnow,
        server_default=CURRENT_TIMESTAMP,
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    transcripts: Mapped[list[TranscriptRow]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TranscriptRow.start_time",
    )
    silence_regions: Mapped[list[SilenceRow]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SilenceRow.start_time",
    )
    layout: Mapped[LayoutAnalysis | None] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )
    content_segments: Mapped[list[ContentSegment]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ContentSegment.segment_order",
    )
    clips: Mapped[list[Clip]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Clip.clip_order",
    )
    logs: Mapped[list[ProcessingLog]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(ProcessingLog.created_at, ProcessingLog.id)",
    )

    def __repr__(self) -> str:
        return f"Job(job_id={self.job_id!r}, status={self.status!r}, filename={self.filename!r})"


class TranscriptRow(Base):
    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    segment_id: Mapped[str] = mapped_column(
        String(100), nullable=False, unique=True, index=True, default=lambda: new_id("trans")
    )
    job_id: Mapped[str] = _job_fk()
    start_time: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    end_time: Mapped[float] = mapped_column(Float, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    speaker_id: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[datetime] = _created_at()

    job: Mapped[Job] = relationship(back_populates="transcripts")


class SilenceRow(Base):
    __tablename__ = "silence_regions"
    __table_args__ = (CheckConstraint(_in("silence_type", SILENCE_TYPES), name="silence_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region_id: Mapped[str] = mapped_column(
        String(100), nullable=False, unique=True, index=True, default=lambda: new_id("sil")
    )
    job_id: Mapped[str] = _job_fk()
    start_time: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    end_time: Mapped[float] = mapped_column(Float, nullable=False)
    duration: Mapped[float] = mapped_column(Float, nullable=False)
    silence_type: Mapped[str] = mapped_column(String(20), nullable=False)
    amplitude_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = _created_at()

    job: Mapped[Job] = relationship(back_populates="silence_regions")


class LayoutAnalysis(Base):
    __tablename__ = "layout_analysis"
    __table_args__ = (CheckConstraint(_in("layout_type", LAYOUT_TYPES), name="layout_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    layout_id: Mapped[str] = mapped_column(
        String(100), nullable=False, unique=True, index=True, default=lambda: new_id("layout")
    )
    # A unique index: one layout per job.
    job_id: Mapped[str] = _job_fk(unique=True)
    screen_region: Mapped[dict[str, float]] = mapped_column(JSON, nullable=False)
    camera_region: Mapped[dict[str, float]] = mapped_column(JSON, nullable=False)
    split_ratio: Mapped[float] = mapped_column(Float, nullable=False)
    layout_type: Mapped[str] = mapped_column(String(30), nullable=False)
    confidence_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    sample_frame_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = _created_at()

    job: Mapped[Job] = relationship(back_populates="layout")


class ContentSegment(Base):
    __tablename__ = "content_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    segment_id: Mapped[str] = mapped_column(
        String(100), nullable=False, unique=True, index=True, default=lambda: new_id("seg")
    )
    job_id: Mapped[str] = _job_fk()
    start_time: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    end_time: Mapped[float] = mapped_column(Float, nullable=False)
    duration: Mapped[float] = mapped_column(Float, nullable=False)
    topic: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    importance_score: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    keywords: Mapped[list[str]] = _json("[]")
    concepts: Mapped[list[str]] = _json("[]")
    segment_order: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    created_at: Mapped[datetime] = _created_at()

    job: Mapped[Job] = relationship(back_populates="content_segments")
    clip: Mapped[Clip | None] = relationship(
        back_populates="content_segment", uselist=False, passive_deletes=True
    )


class Clip(Base):
    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clip_id: Mapped[str] = mapped_column(
        String(100), nullable=False, unique=True, index=True, default=lambda: new_id("clip")
    )
    job_id: Mapped[str] = _job_fk()
    # CASCADE, as the seed says of every relationship: a clip goes with its segment
    # (content analysis deletes the clips before it replaces the segments anyway).
    content_segment_id: Mapped[str | None] = mapped_column(
        String(100),
        ForeignKey("content_segments.segment_id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    )
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    topic: Mapped[str | None] = mapped_column(String(500), nullable=True)
    importance_score: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    start_time: Mapped[float] = mapped_column(Float, nullable=False)
    end_time: Mapped[float] = mapped_column(Float, nullable=False)
    duration: Mapped[float] = mapped_column(Float, nullable=False)
    s3_key: Mapped[str] = mapped_column(String(500), nullable=False)
    thumbnail_s3_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    subtitle_s3_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    clip_order: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    metadata_: Mapped[dict[str, Any]] = _json("{}", name="metadata")
    created_at: Mapped[datetime] = _created_at()

    job: Mapped[Job] = relationship(back_populates="clips")
    content_segment: Mapped[ContentSegment | None] = relationship(back_populates="clip")


class ProcessingLog(Base):
    __tablename__ = "processing_logs"
    __table_args__ = (
        CheckConstraint(_in("stage", STAGES), name="stage"),
        CheckConstraint(_in("status", LOG_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    log_id: Mapped[str] = mapped_column(
        String(100), nullable=False, unique=True, index=True, default=lambda: new_id("log")
    )
    job_id: Mapped[str] = _job_fk()
    stage: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    agent_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadata_: Mapped[dict[str, Any]] = _json("{}", name="metadata")
    created_at: Mapped[datetime] = _created_at(index=True)

    job: Mapped[Job] = relationship(back_populates="logs")


# Child tables in the order a job's rows are written; every one has a `job_id` column.
CHILD_MODELS: tuple[type[Base], ...] = (
    TranscriptRow,
    SilenceRow,
    LayoutAnalysis,
    ContentSegment,
    Clip,
    ProcessingLog,
)
ALL_MODELS: tuple[type[Base], ...] = (Job, *CHILD_MODELS)
