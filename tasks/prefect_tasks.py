"""The stages as Prefect tasks, built per job so their hooks know whose logs to write.

Retries are for transient failures only (`StageHooks.should_retry`); timeouts scale with
the lecture's length. Tasks take and return only ids, keys and small dicts: media stays
in the object store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from prefect import Task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from highlights.settings import Settings
from tasks import (
    compilation,
    complete,
    content_analysis,
    layout_analysis,
    segmentation,
    silence_detection,
    transcription,
    uploading,
)
from tasks.context import StageContext
from tasks.errors import one_line
from tasks.logs import StageHooks
from tasks.progress import JobProgress


class StageFailed(RuntimeError):
    """A stage ended in failure; carries the stage name and the one-line cause."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        self.stage = stage
        self.cause = cause
        self.message = one_line(cause)
        super().__init__(f"{stage}: {self.message}")

    @classmethod
    def result(cls, stage: str, future: PrefectFuture[Any]) -> Any:
        try:
            return future.result()
        except Exception as exc:
            raise cls(stage, exc) from exc

    @classmethod
    def check(cls, stage: str, future: PrefectFuture[Any]) -> None:
        cls.result(stage, future)


class _ThreadTimeoutNotice(logging.Filter):
    """Drop Prefect's per-run notice that thread timeouts wait for blocking calls.

    Stages are synchronous and run in worker threads by design; their timeouts are a
    backstop that takes effect when the blocking call returns, which is what we want. The
    notice would otherwise print once for every stage of every job.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "running in a worker thread" not in record.getMessage()


logging.getLogger("prefect.task_runs").addFilter(_ThreadTimeoutNotice())


def _timeout(stage: str, duration: float | None) -> float:
    """Per-stage limits, a backstop against a hung decoder or API rather than a speed check.

    Seconds per minute of lecture, several times what each stage takes on 2 busy cores,
    plus a floor for start-up costs such as loading the speech model.
    """
    minutes = max((duration or 0.0) / 60.0, 1.0)
    per_minute = {"uploading": 30, "silence_detection": 10, "transcription": 180,
                  "layout_analysis": 20, "content_analysis": 20, "segmentation": 5,
                  "compilation": 60, "complete": 2}[stage]
    return 900.0 + per_minute * minutes


def _agent(settings: Settings, stage: str) -> str | None:
    return {
        "uploading": uploading.AGENT,
        "silence_detection": silence_detection.AGENT,
        "transcription": "openai-whisper" if settings.transcriber == "openai" else "faster-whisper",
        "layout_analysis": "motion+haar",
        # The LLM analyzers' names are their setting's value ("gemini", "openai").
        "content_analysis": "local-texttiling" if settings.analyzer == "local" else settings.analyzer,
        "segmentation": segmentation.AGENT,
        "compilation": compilation.AGENT,
        "complete": complete.AGENT,
    }[stage]


def build_stage_tasks(settings: Settings, job_id: str, progress: JobProgress,
                      duration: float | None) -> dict[str, Task[..., Any]]:
    def ctx() -> StageContext:
        return StageContext(job_id=job_id, settings=settings)

    def reporter(stage: str) -> Callable[[float], None]:
        return lambda fraction: progress.stage_progress(stage, fraction)

    bodies: dict[str, Callable[..., dict[str, Any]]] = {
        "uploading": lambda source, filename=None: uploading.run(ctx(), source, filename).to_dict(),
        "silence_detection": lambda duration=None: silence_detection.run(ctx()).to_dict(),
        "transcription": lambda duration=None: transcription.run(
            ctx(), duration, reporter("transcription")).to_dict(),
        "layout_analysis": lambda duration=None: layout_analysis.run(ctx()).to_dict(),
        "content_analysis": lambda duration: content_analysis.run(ctx(), duration).to_dict(),
        "segmentation": lambda duration, options: segmentation.run(ctx(), duration, options).to_dict(),
        "compilation": lambda source_key, duration, options: compilation.run(
            ctx(), source_key, duration, options, reporter("compilation")).to_dict(),
        "complete": lambda: complete.run(ctx()).to_dict(),
    }
    built: dict[str, Task[..., Any]] = {}
    for stage, body in bodies.items():
        hooks = StageHooks(settings, job_id, stage, _agent(settings, stage))

        def on_running(task: Any, run: Any, state: Any, _h: StageHooks = hooks, _s: str = stage) -> None:
            _h.running(task, run, state)
            progress.stage_started(_s)

        def on_completion(task: Any, run: Any, state: Any, _h: StageHooks = hooks, _s: str = stage) -> None:
            _h.completed(task, run, state)
            progress.stage_finished(_s)

        def should_retry(task: Any, run: Any, state: Any, _h: StageHooks = hooks) -> bool:
            # A plain function on purpose: Prefect calls `retry_condition_fn` only when
            # `inspect.isfunction` holds, and treats anything else (a bound method) as
            # "never retry", which silently disabled every stage retry.
            return _h.should_retry(task, run, state)

        body.__name__ = stage
        built[stage] = Task(
            fn=body, name=stage, task_run_name=f"{stage}",
            retries=0 if stage == "complete" else len(settings.retry_delays),
            retry_delay_seconds=list(settings.retry_delays) or 0,
            retry_condition_fn=should_retry, timeout_seconds=_timeout(stage, duration),
            on_running=[on_running], on_completion=[on_completion], on_failure=[hooks.failed],
            cache_policy=NO_CACHE, persist_result=False,
        )
    return built
