"""What a pipeline stage is, declared once by the module that implements it.

Each stage module (`tasks/uploading.py`, `tasks/transcription.py`, ...) holds one
`Stage` and one module-level Prefect task. `tasks.pipeline` collects them in order; the
flow, progress and ETA, resume planning, timeouts and the log hooks all read that one
list, so adding or re-weighing a stage is an edit in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prefect.cache_policies import NO_CACHE

from highlights.settings import Settings

# Every stage task: media and rows live in the object store and the database, so Prefect
# keeps no results and caches nothing (a retry must redo the work, not replay a result).
TASK_DEFAULTS: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}

# A floor under every stage's timeout for fixed start-up costs (loading the speech
# model, starting a render), whatever the lecture's length.
TIMEOUT_FLOOR_SECONDS = 900.0


@dataclass(frozen=True)
class Stage:
    """One stage: its seed name, place in the pipeline, cost and limits.

    `step` orders the stages; stages that share a step run side by side (the three
    analysis branches). `cost` is the expected work in seconds per second of lecture on
    2 cores: only the ratios matter for the progress bar, the values for the first ETA.
    `timeout_per_minute` is a backstop against a hung decoder or API, several times what
    the stage takes on 2 busy cores, not a speed check.
    """

    name: str
    step: int
    cost: float
    message: str
    timeout_per_minute: float
    agent: str | Callable[[Settings], str]
    retries: bool = True
    # Within its step, the stage that must finish first (a branch of several stages).
    after: str | None = None
    # The cost when the stage hands its work to a remote API (the Whisper API transcribes
    # about four times faster than the local model on 2 cores); None: the same either way.
    remote_cost: float | None = None

    def agent_name(self, settings: Settings) -> str:
        """The provider or tool the stage's log rows name before the stage reports its own."""
        return self.agent(settings) if callable(self.agent) else self.agent

    def expected_cost(self, remote: bool) -> float:
        return self.remote_cost if remote and self.remote_cost is not None else self.cost

    def timeout_seconds(self, duration: float | None) -> float:
        minutes = max((duration or 0.0) / 60.0, 1.0)
        return TIMEOUT_FLOOR_SECONDS + self.timeout_per_minute * minutes

    @property
    def short_message(self) -> str:
        """The message's first clause, for a line naming several running stages."""
        return self.message.split(",")[0]


# In-stage progress (a fraction of the stage done) goes to whoever runs the job in this
# process: the flow registers a listener per job; stages call `report_progress`. Tasks run
# in the flow's process (Prefect's thread pool), so a dictionary is enough; with no
# listener (a stage run by hand, a test) the report goes nowhere.
ProgressListener = Callable[[str, float], None]
_listeners: dict[str, ProgressListener] = {}


def listen_to_progress(job_id: str, listener: ProgressListener | None) -> None:
    """Route `report_progress(job_id, ...)` to `listener` (None stops it)."""
    if listener is None:
        _listeners.pop(job_id, None)
    else:
        _listeners[job_id] = listener


def report_progress(job_id: str, stage: str, fraction: float) -> None:
    listener = _listeners.get(job_id)
    if listener is not None:
        listener(stage, fraction)


def progress_reporter(job_id: str, stage: str) -> Callable[[float], None]:
    """A `fraction -> None` callback for core code that reports its own progress."""
    return lambda fraction: report_progress(job_id, stage, fraction)
