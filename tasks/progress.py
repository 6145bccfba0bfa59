"""Keep the `jobs` row truthful: status, current stage, percent, message, ETA.

Progress is weighted by how long each stage usually takes per second of lecture on a
small machine, so the bar moves at a steady pace; the ETA rescales those expectations
by how fast this job's finished stages actually ran.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from db.engine import get_engine, session_scope
from db.models import Job
from highlights.settings import Settings

# Expected work in seconds per second of lecture on 2 cores (measured on generated
# lectures; only the ratios matter for the bar, the absolute values for the first ETA).
STAGE_COST: dict[str, float] = {
    "uploading": 0.035,
    "silence_detection": 0.002,
    "transcription": 0.06,
    "layout_analysis": 0.004,
    "content_analysis": 0.002,
    "segmentation": 0.0005,
    "compilation": 0.02,
    "complete": 0.0002,
}
STAGE_MESSAGES = {
    "uploading": "Checking and storing the recording, extracting audio and sampling video",
    "silence_detection": "Finding silences and blank screens",
    "transcription": "Transcribing speech",
    "layout_analysis": "Detecting screen and camera layout, slide changes",
    "content_analysis": "Finding topics and what matters most",
    "segmentation": "Choosing highlight clips",
    "compilation": "Rendering clips, thumbnails and subtitles",
    "complete": "Finishing up",
}
logger = logging.getLogger(__name__)
_MIN_WRITE_INTERVAL = 1.0  # seconds between in-stage progress writes


class JobProgress:
    """Tracks stage progress for one job and writes it to the `jobs` row."""

    def __init__(self, settings: Settings, job_id: str, duration: float | None,
                 transcriber: str = "local") -> None:
        self.settings = settings
        self.job_id = job_id
        self.duration = max(duration or 60.0, 1.0)
        self.cost = dict(STAGE_COST)
        if transcriber != "local":
            self.cost["transcription"] = 0.015
        self.fraction: dict[str, float] = {stage: 0.0 for stage in self.cost}
        self.started: dict[str, float] = {}
        self.actual: dict[str, float] = {}
        self._lock = threading.Lock()
        self._last_write = 0.0

    # -- bookkeeping -------------------------------------------------------------------

    def mark_done(self, stage: str, seconds: float | None = None) -> None:
        with self._lock:
            self.fraction[stage] = 1.0
            if seconds is not None:
                self.actual[stage] = seconds

    def percent(self) -> float:
        total = sum(self.cost.values())
        done = sum(self.cost[s] * f for s, f in self.fraction.items())
        return float(round(100.0 * done / total, 1))

    def eta_seconds(self) -> int:
        expected_done = sum(self.cost[s] for s in self.actual) * self.duration
        speed = (sum(self.actual.values()) / expected_done) if expected_done > 0.5 else 1.0
        speed = min(max(speed, 0.2), 5.0)
        remaining = sum(self.cost[s] * (1.0 - f) for s, f in self.fraction.items())
        # The three analysis branches overlap; count only the longest of them.
        branches = [self.cost[s] * (1.0 - self.fraction[s])
                    for s in ("silence_detection", "transcription", "layout_analysis")]
        remaining -= sum(branches) - max(branches)
        return int(max(0, round(remaining * self.duration * speed)))

    # -- writes ------------------------------------------------------------------------

    def _write(self, **values: Any) -> None:
        with session_scope(get_engine(self.settings)) as session:
            session.execute(update(Job).where(Job.job_id == self.job_id).values(**values))

    def stage_started(self, stage: str) -> None:
        with self._lock:
            self.started[stage] = time.monotonic()
            self.fraction[stage] = 0.0
            running = [s for s in self.started if self.fraction.get(s, 0) < 1.0]
        label = " + ".join(STAGE_MESSAGES[s].split(",")[0] for s in running) or STAGE_MESSAGES[stage]
        self._write(current_stage=stage, progress_message=label[:500],
                    progress_percent=self.percent(), eta_seconds=self.eta_seconds())

    def stage_progress(self, stage: str, fraction: float, message: str | None = None) -> None:
        """In-stage progress (0-1), written at most once a second."""
        with self._lock:
            self.fraction[stage] = min(max(float(fraction), 0.0), 0.99)
            now = time.monotonic()
            if now - self._last_write < _MIN_WRITE_INTERVAL:
                return
            self._last_write = now
        values: dict[str, Any] = {"progress_percent": self.percent(), "eta_seconds": self.eta_seconds()}
        if message:
            values["progress_message"] = message[:500]
        try:
            self._write(**values)
        except Exception as exc:  # progress is advisory: never fail a stage over it
            logger.warning("job %s: progress not recorded: %s", self.job_id, exc)

    def stage_finished(self, stage: str) -> None:
        with self._lock:
            began = self.started.get(stage)
        self.mark_done(stage, None if began is None else time.monotonic() - began)
        self._write(progress_percent=self.percent(), eta_seconds=self.eta_seconds())


def set_job_fields(settings: Settings, job_id: str, **values: Any) -> None:
    with session_scope(get_engine(settings)) as session:
        session.execute(update(Job).where(Job.job_id == job_id).values(**values))


def utcnow() -> datetime:
    return datetime.now(UTC)
