"""Prefect state hooks that write `processing_logs` rows.

Every attempt of a stage writes a `started` row when it begins running and a
`completed` or `failed` row when it ends. A failed attempt that Prefect will retry is
logged from the retry condition (Prefect calls no failure hook for it), so each
`started` row has its matching end row with the attempt number.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from db.engine import get_engine, session_scope
from db.models import ProcessingLog
from highlights.settings import Settings
from tasks.errors import is_transient, one_line

_started_at: dict[str, float] = {}
_lock = threading.Lock()
logger = logging.getLogger(__name__)


# How long a log write waits for a database that went away (a restart, a failover)
# before giving up: a lost `completed` row makes a retry redo the stage, a lost
# `failed` row leaves the audit trail without its cause.
LOG_WRITE_PATIENCE_SECONDS = 20.0


def write_log(settings: Settings, job_id: str, stage: str, status: str, *,
              agent_name: str | None = None, duration: float | None = None,
              error: str | None = None, metadata: dict[str, Any] | None = None) -> None:
    deadline = time.monotonic() + LOG_WRITE_PATIENCE_SECONDS
    pause = 0.5
    while True:
        try:
            with session_scope(get_engine(settings)) as session:
                session.add(ProcessingLog(
                    job_id=job_id, stage=stage, status=status, agent_name=agent_name,
                    duration_seconds=None if duration is None else round(duration, 3),
                    error_message=error, metadata_=metadata or {},
                ))
            return
        except Exception as exc:
            if not is_transient(exc) or time.monotonic() + pause > deadline:
                raise
            logger.warning("job %s: %s log for %s not written yet (%s); retrying in %.1f s",
                           job_id, status, stage, one_line(exc, 200), pause)
            time.sleep(pause)
            pause = min(pause * 2, 4.0)


def _elapsed(task_run_id: Any) -> float | None:
    with _lock:
        started = _started_at.pop(str(task_run_id), None)
    return None if started is None else time.monotonic() - started


def _exception(state: Any) -> BaseException | None:
    try:
        result = state.result(raise_on_failure=False)
    except BaseException as exc:  # a result that cannot be loaded is itself the cause
        return exc
    return result if isinstance(result, BaseException) else None


class StageHooks:
    """The hooks for one stage of one job, bound when the flow builds its tasks."""

    def __init__(self, settings: Settings, job_id: str, stage: str, agent_name: str | None) -> None:
        self.settings = settings
        self.job_id = job_id
        self.stage = stage
        self.agent_name = agent_name

    def running(self, task: Any, task_run: Any, state: Any) -> None:
        with _lock:
            _started_at[str(task_run.id)] = time.monotonic()
        write_log(self.settings, self.job_id, self.stage, "started", agent_name=self.agent_name,
                  metadata={"attempt": task_run.run_count, "task_run_id": str(task_run.id)})

    def completed(self, task: Any, task_run: Any, state: Any) -> None:
        result = state.result(raise_on_failure=False)
        info = result if isinstance(result, dict) else {}
        metadata = {"attempt": task_run.run_count, "rows": info.get("rows", 0),
                    **info.get("metadata", {})}
        write_log(self.settings, self.job_id, self.stage, "completed",
                  agent_name=info.get("agent_name", self.agent_name),
                  duration=_elapsed(task_run.id), metadata=metadata)

    def failed(self, task: Any, task_run: Any, state: Any) -> None:
        exc = _exception(state)
        message = one_line(exc) if exc else (state.message or "failed")
        write_log(self.settings, self.job_id, self.stage, "failed", agent_name=self.agent_name,
                  duration=_elapsed(task_run.id), error=message,
                  metadata={"attempt": task_run.run_count, "final": True,
                            "error_type": type(exc).__name__ if exc else None,
                            "transient": bool(exc and is_transient(exc))})

    def should_retry(self, task: Any, task_run: Any, state: Any) -> bool:
        """Prefect's retry condition: retry transient failures only, logging the attempt."""
        exc = _exception(state)
        retry = exc is not None and is_transient(exc)
        attempts_left = task_run.run_count <= (task.retries or 0)
        if retry and attempts_left:
            try:
                write_log(self.settings, self.job_id, self.stage, "failed",
                          agent_name=self.agent_name, duration=_elapsed(task_run.id),
                          error=one_line(exc),
                          metadata={"attempt": task_run.run_count, "final": False,
                                    "will_retry": True, "error_type": type(exc).__name__})
            except Exception as log_exc:
                # The retry must not hang on the audit trail: Prefect reads an exception
                # here as "do not retry", and a database outage is exactly when to retry.
                logger.warning("job %s: retry of %s not logged: %s", self.job_id, self.stage,
                               one_line(log_exc, 200))
        return retry
