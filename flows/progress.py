"""Keep the running job's `jobs` row truthful: current stage, percent, message, ETA.

Progress is weighted by each stage's expected cost per second of lecture (declared by
the stage, `tasks.stage.Stage`), so the bar moves at a steady pace; the ETA rescales
those expectations by how fast this job's finished stages actually ran. Stages that run
side by side count once, by the longest of them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from db import jobstate
from highlights.settings import Settings
from tasks.stage import Stage

logger = logging.getLogger(__name__)
_MIN_WRITE_INTERVAL = 1.0  # seconds between in-stage progress writes


class JobProgress:
    """Tracks stage progress for one job and writes it to the `jobs` row."""

    def __init__(self, settings: Settings, job_id: str, duration: float | None,
                 stages: Sequence[Stage], *, remote: bool = False) -> None:
        """`remote`: the job's transcription runs on an API, not the local model."""
        self.settings = settings
        self.job_id = job_id
        self.duration = max(duration or 60.0, 1.0)
        self.stages = {stage.name: stage for stage in stages}
        self.cost = {stage.name: stage.expected_cost(remote) for stage in stages}
        self.fraction: dict[str, float] = {name: 0.0 for name in self.cost}
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
        # A chain of stages in one branch adds up; side-by-side branches count once,
        # by the longest.
        lane_left: dict[tuple[int, str], float] = {}
        for name, fraction in self.fraction.items():
            spec = self.stages[name]
            lane = (spec.step, self._lane_head(name))
            lane_left[lane] = lane_left.get(lane, 0.0) + self.cost[name] * (1.0 - fraction)
        by_step: dict[int, float] = {}
        for (step, _), seconds in lane_left.items():
            by_step[step] = max(by_step.get(step, 0.0), seconds)
        return int(max(0, round(sum(by_step.values()) * self.duration * speed)))

    def _lane_head(self, name: str) -> str:
        """The first stage of the chain `name` belongs to within its step."""
        while (before := self.stages[name].after) is not None and before in self.stages:
            name = before
        return name

    # -- writes ------------------------------------------------------------------------

    def stage_started(self, stage: str) -> None:
        with self._lock:
            self.started[stage] = time.monotonic()
            self.fraction[stage] = 0.0
            running = [s for s in self.started if self.fraction.get(s, 0) < 1.0]
        # One stage: its whole message; side-by-side stages: their first clauses joined.
        label = (" + ".join(self.stages[s].short_message for s in running) if len(running) > 1
                 else self.stages[stage].message)
        jobstate.record_progress(self.settings, self.job_id, stage=stage, message=label,
                                 percent=self.percent(), eta_seconds=self.eta_seconds())

    def stage_progress(self, stage: str, fraction: float, message: str | None = None) -> None:
        """In-stage progress (0-1), written at most once a second."""
        with self._lock:
            self.fraction[stage] = min(max(float(fraction), 0.0), 0.99)
            now = time.monotonic()
            if now - self._last_write < _MIN_WRITE_INTERVAL:
                return
            self._last_write = now
        try:
            jobstate.record_progress(self.settings, self.job_id, percent=self.percent(),
                                     eta_seconds=self.eta_seconds(), message=message)
        except Exception as exc:  # progress is advisory: never fail a stage over it
            logger.warning("job %s: progress not recorded: %s", self.job_id, exc)

    def stage_finished(self, stage: str) -> None:
        with self._lock:
            began = self.started.get(stage)
        self.mark_done(stage, None if began is None else time.monotonic() - began)
        jobstate.record_progress(self.settings, self.job_id, percent=self.percent(),
                                 eta_seconds=self.eta_seconds())
