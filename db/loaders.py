"""Rows in, core types out; core results in, rows out: what stages hand each other
through the database.

A stage writes its rows with `replace_stage_rows` (one transaction, replacing an earlier
attempt's rows) and the stages after it read them back with the loaders here as the
core's own types (`highlights.types`), so no stage module imports another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import Base, ContentSegment, Job, LayoutAnalysis, SilenceRow
from db.queries import QueryError, require_job
from highlights.types import ContentAnalysis, LayoutResult, Region, SilenceRegion, TopicSegment

ModelT = TypeVar("ModelT", bound=Base)


def replace_stage_rows(
    session: Session,
    job_id: str,
    model: type[ModelT],
    rows: Iterable[ModelT | Mapping[str, Any]],
) -> list[ModelT]:
    """Replace a job's rows of one table with `rows`, so re-running a stage never duplicates.

    `rows` are model instances or dicts of column attributes; each gets this `job_id`.
    The delete and the inserts happen in the caller's transaction: commit (or leave a
    `session_scope` block) to make them visible together.
    """
    if model is Job or not hasattr(model, "job_id"):
        raise QueryError(f"{model.__name__} is not a per-job child table")
    require_job(session, job_id)
    objects = [row if isinstance(row, Base) else model(**dict(row)) for row in rows]
    for obj in objects:
        if not isinstance(obj, model):
            raise QueryError(f"expected {model.__name__} rows, got {type(obj).__name__}")
        obj.job_id = job_id  # type: ignore[attr-defined]
    session.execute(
        delete(model)
        .where(model.job_id == job_id)  # type: ignore[attr-defined]
        .execution_options(synchronize_session="fetch")
    )
    session.add_all(objects)
    session.flush()
    return objects


def load_silences(session: Session, job_id: str) -> list[SilenceRegion]:
    rows = session.scalars(
        select(SilenceRow).where(SilenceRow.job_id == job_id).order_by(SilenceRow.start_time)
    ).all()
    return [SilenceRegion(r.start_time, r.end_time, r.silence_type, r.amplitude_threshold)  # type: ignore[arg-type]
            for r in rows]


def load_layout(session: Session, job_id: str) -> LayoutResult | None:
    row = session.scalars(select(LayoutAnalysis).where(LayoutAnalysis.job_id == job_id)).first()
    if row is None:
        return None
    return LayoutResult(Region.from_dict(row.screen_region), Region.from_dict(row.camera_region),
                        row.split_ratio, row.layout_type, row.confidence_score or 0.0,  # type: ignore[arg-type]
                        row.sample_frame_time)


def load_topics(session: Session, job_id: str) -> tuple[ContentAnalysis, list[str]]:
    """The stored topic segments as the core's type, with their row ids in the same order."""
    rows = session.scalars(select(ContentSegment).where(ContentSegment.job_id == job_id)
                           .order_by(ContentSegment.segment_order)).all()
    segments = [TopicSegment(r.start_time, r.end_time, r.topic, r.description,
                             r.importance_score, list(r.keywords or []), list(r.concepts or []))
                for r in rows]
    return ContentAnalysis(segments=segments, provider="stored"), [r.segment_id for r in rows]
