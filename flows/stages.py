"""The pipeline's stages in order: the one list the flow, progress, resume and timeouts read.

Each stage module declares its own `STAGE` (name, step, cost, message, timeout, agent)
and its module-level Prefect task; this module only collects them and configures a
task for one run of one job (`configured_task`): its log-writing state hooks, its
timeout for this lecture's length, and its retry rule.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from prefect import Task

from db.models import STAGES as SEED_STAGES
from flows.progress import JobProgress
from highlights.memory import return_freed_memory
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
from tasks.logs import StageHooks
from tasks.stage import Stage

# Each stage module's declaration and its task; their order here does not matter, `step` does.
_REGISTERED: tuple[tuple[Stage, Task[..., dict[str, Any]]], ...] = (
    (uploading.STAGE, uploading.uploading_task),
    (silence_detection.STAGE, silence_detection.silence_detection_task),
    (transcription.STAGE, transcription.transcription_task),
    (layout_analysis.STAGE, layout_analysis.layout_analysis_task),
    (content_analysis.STAGE, content_analysis.content_analysis_task),
    (segmentation.STAGE, segmentation.segmentation_task),
    (compilation.STAGE, compilation.compilation_task),
    (complete.STAGE, complete.complete_task),
)
STAGE_TASKS: dict[str, Task[..., dict[str, Any]]] = {s.name: t for s, t in _REGISTERED}


def _in_order(stages: list[Stage]) -> tuple[Stage, ...]:
    """By step; within a step, a stage after the one it names (`after`)."""
    placed: list[Stage] = []
    for step in sorted({s.step for s in stages}):
        waiting = [s for s in stages if s.step == step]
        while waiting:
            ready = [s for s in waiting if s.after is None or s.after in {p.name for p in placed}]
            if not ready:
                raise RuntimeError(f"stages of step {step} wait for each other: {waiting}")
            placed.extend(ready)
            waiting = [s for s in waiting if s not in ready]
    return tuple(placed)


STAGES: tuple[Stage, ...] = _in_order([s for s, _ in _REGISTERED])
STAGE_ORDER: tuple[str, ...] = tuple(stage.name for stage in STAGES)
# Stages run step by step; the stages of one step run side by side.
STEPS: tuple[tuple[Stage, ...], ...] = tuple(
    tuple(group) for _, group in itertools.groupby(STAGES, key=lambda stage: stage.step)
)
BRANCH_STAGES: tuple[str, ...] = tuple(s.name for step in STEPS if len(step) > 1 for s in step)


def lanes(step: tuple[Stage, ...]) -> list[list[Stage]]:
    """A step's stages as chains that run side by side: a stage joins the chain of the
    stage it comes `after`; one that names none starts a chain of its own."""
    chains: list[list[Stage]] = []
    for spec in step:
        chain = next((c for c in chains if spec.after and c[-1].name == spec.after), None)
        if chain is None:
            chains.append([spec])
        else:
            chain.append(spec)
    return chains
if set(STAGE_ORDER) != set(SEED_STAGES):  # the seed names every stage the log may hold
    raise RuntimeError(f"stage registry {STAGE_ORDER} differs from the seed's {SEED_STAGES}")


def stage(name: str) -> Stage:
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no stage named {name!r}")


def stages_to_run(done: Collection[str]) -> list[str]:
    """The stages a resumed run executes, in order, given those already completed.

    Side-by-side stages are independent, so a finished one is reused even when a
    sibling failed (a stage that follows another in its branch runs again with it);
    from the first step with unfinished work on, every later step runs again in full,
    because its inputs are about to change.
    """
    todo: list[str] = []
    for step in STEPS:
        if todo:
            todo.extend(s.name for s in step)
            continue
        for spec in step:  # in order, so a predecessor is decided before its follower
            if spec.name not in done or (spec.after is not None and spec.after in todo):
                todo.append(spec.name)
    return todo


class _ThreadTimeoutNotice(logging.Filter):
    """Drop Prefect's per-run notice that thread timeouts wait for blocking calls.

    Stages are synchronous and run in worker threads by design; their timeouts are a
    backstop that takes effect when the blocking call returns, which is what we want. The
    notice would otherwise print once for every stage of every job.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "running in a worker thread" not in record.getMessage()


logging.getLogger("prefect.task_runs").addFilter(_ThreadTimeoutNotice())


@dataclass
class PipelineRun:
    """The stage tasks of one run of one job, with this run's hooks, timeouts and retries."""

    settings: Settings
    job_id: str
    progress: JobProgress
    duration: float | None = None

    def task(self, name: str) -> Task[..., dict[str, Any]]:
        spec = stage(name)
        hooks = StageHooks(self.settings, self.job_id, name, spec.agent_name(self.settings))
        progress = self.progress

        def on_running(task: Any, run: Any, state: Any) -> None:
            hooks.running(task, run, state)
            progress.stage_started(name)

        def on_completion(task: Any, run: Any, state: Any) -> None:
            hooks.completed(task, run, state)
            progress.stage_finished(name)
            # What the stage loaded (a model, OCR sessions) is garbage now; the stages
            # still to come, and the branch running beside them, get its memory.
            return_freed_memory()

        def on_failure(task: Any, run: Any, state: Any) -> None:
            hooks.failed(task, run, state)
            return_freed_memory()

        def should_retry(task: Any, run: Any, state: Any) -> bool:
            # A plain function on purpose: Prefect calls `retry_condition_fn` only when
            # `inspect.isfunction` holds, and treats anything else (a bound method) as
            # "never retry", which silently disabled every stage retry.
            return hooks.should_retry(task, run, state)

        retries = len(self.settings.retry_delays) if spec.retries else 0
        return STAGE_TASKS[name].with_options(
            retries=retries,
            retry_delay_seconds=list(self.settings.retry_delays) or 0,
            retry_condition_fn=should_retry,
            timeout_seconds=spec.timeout_seconds(self.duration),
            on_running=[on_running],
            on_completion=[on_completion],
            on_failure=[on_failure],
        )
