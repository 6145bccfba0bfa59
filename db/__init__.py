"""The database layer: the seven tables, engines and sessions, queries, migrations."""

from db.engine import DatabaseError, dispose_engines, get_engine, make_engine, session_scope
from db.migrate import downgrade_db, init_db
from db.models import (
    CHILD_MODELS,
    FINISHED_JOB_STATUSES,
    JOB_STATUSES,
    LAYOUT_TYPES,
    LOG_STATUSES,
    SILENCE_TYPES,
    STAGES,
    Base,
    Clip,
    ContentSegment,
    Job,
    LayoutAnalysis,
    ProcessingLog,
    SilenceRegion,
    Transcript,
    new_id,
)

__all__ = [
    "CHILD_MODELS",
    "FINISHED_JOB_STATUSES",
    "JOB_STATUSES",
    "LAYOUT_TYPES",
    "LOG_STATUSES",
    "SILENCE_TYPES",
    "STAGES",
    "Base",
    "Clip",
    "ContentSegment",
    "DatabaseError",
    "Job",
    "LayoutAnalysis",
    "ProcessingLog",
    "SilenceRegion",
    "Transcript",
    "dispose_engines",
    "downgrade_db",
    "get_engine",
    "init_db",
    "make_engine",
    "new_id",
    "session_scope",
]
