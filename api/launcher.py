"""Start a job's flow: as a run of the Prefect deployment, or in a child process here.

- `PrefectLauncher` (when a Prefect server is configured, PREFECT_API_URL): creates a
  flow run of the `process-lecture/process-lecture` deployment and returns at once; a
  worker of the deployment's pool runs it.
- `LocalLauncher` (the embedded default): runs `process_lecture` in a child process of
  this server, at most `max_parallel` at once; the others wait queued.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from typing import Literal

from api.errors import ApiConfigError
from db import jobstate
from flows.names import PROCESS_DEPLOYMENT
from highlights.settings import Settings, load_settings

log = logging.getLogger("highlights.api")

DEPLOYMENT_NAME = PROCESS_DEPLOYMENT
RunnerKind = Literal["local", "prefect"]


class LaunchError(RuntimeError):
    """The job could not be handed to a runner; the message says which service failed."""


INTERRUPTED = "interrupted: the API server stopped; retry the job to resume it"


def mark_not_started(
    settings: Settings,
    job_id: str,
    message: str,
    progress_message: str = "Could not start",
    statuses: tuple[str, ...] = ("queued", "running"),
) -> None:
    """A job its runner could not take to the end: failed, with the reason, so it can be
    retried (only a job still in one of `statuses`: one that ended keeps its outcome)."""
    jobstate.mark_failed(settings, job_id, message, progress_message=progress_message,
                         only_if=statuses)


class JobLauncher(ABC):
    kind: RunnerKind

    @abstractmethod
    async def start(self, job_id: str, *, resume: bool = False) -> str | None:
        """Hand the job to its runner; return the Prefect flow run id when known."""

    def cancel_pending(self, job_id: str) -> bool:
        """Withdraw a job that has not started yet; True if it will now never run."""
        return False

    def is_active(self, job_id: str) -> bool:
        """True while this launcher has the job waiting or running."""
        return False

    def warm_up(self) -> None:
        """Load what the runner needs, so a broken installation fails at start-up."""
        return None

    def shutdown(self) -> None:
        """Stop accepting jobs (at server shutdown)."""
        return None


class LocalLauncher(JobLauncher):
    """Runs each job in a child process of this server, at most `max_parallel` at once;
    the others wait in submission order.

    A child (`python -m api.job_process`) gets its own process group, so stopping it also
    stops what it started (ffmpeg, Prefect's temporary server). When the server stops, its
    jobs are stopped within `stop_grace_seconds` and marked failed as interrupted, so that
    `POST /jobs/{id}/retry` resumes them from their last completed stage. A child that
    dies (killed, out of memory) fails its job with that reason instead of leaving it
    `running` forever.
    """

    kind: RunnerKind = "local"

    def __init__(
        self, settings: Settings, max_parallel: int = 1, stop_grace_seconds: float = 10.0
    ) -> None:
        if max_parallel < 1:
            raise ApiConfigError(f"max_parallel must be at least 1, got {max_parallel}")
        self.settings = settings
        self.max_parallel = max_parallel
        self.stop_grace_seconds = stop_grace_seconds
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._waiting: dict[str, bool] = {}  # job id -> resume, in submission order
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._workers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopped = False

    def check_environment(self) -> None:
        # A job process reads its settings from the environment (like every flow run), so
        # the server's settings must be the environment's or jobs would use another store.
        env = load_settings()
        for name in ("database_url", "storage_url", "work_dir"):
            if getattr(env, name) != getattr(self.settings, name):
                raise ApiConfigError(
                    f"the local runner needs the server settings to come from the "
                    f"environment, but {name} differs ({getattr(self.settings, name)!s} vs "
                    f"{getattr(env, name)!s}); set the HIGHLIGHTS_* variables instead"
                )

    def warm_up(self) -> None:
        self.check_environment()
        import flows.lecture  # noqa: F401 - a broken installation fails at start-up

    async def start(self, job_id: str, *, resume: bool = False) -> str | None:
        with self._lock:
            if self._stopped:
                raise LaunchError("the server is shutting down")
            self._waiting[job_id] = resume
            while len(self._workers) < self.max_parallel:
                worker = threading.Thread(
                    target=self._work, daemon=True, name=f"highlights-jobs-{len(self._workers) + 1}"
                )
                worker.start()
                self._workers.append(worker)
        self._queue.put(job_id)
        return None

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._lock:
                if self._stopped or job_id not in self._waiting:  # withdrawn while waiting
                    continue
                resume = self._waiting.pop(job_id)
                command = [sys.executable, "-m", "api.job_process", job_id]
                if resume:
                    command.append("--resume")
                try:
                    child = subprocess.Popen(command, start_new_session=True)
                except OSError as exc:
                    child = None
                    error = f"could not start a job process: {exc}"
                if child is not None:
                    self._running[job_id] = child
            if child is None:
                mark_not_started(self.settings, job_id, error)
                continue
            code = child.wait()
            # A child that was killed leaves what it started (Prefect's temporary server,
            # ffmpeg) behind in its process group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGTERM)
            with self._lock:
                self._running.pop(job_id, None)
                stopping = self._stopped
            if code != 0 and not stopping:
                self._record_exit(job_id, code)

    def _record_exit(self, job_id: str, code: int) -> None:
        if code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if -code == signal.SIGKILL else ""
            message = f"the job's process was killed by {name}{hint}; retry the job"
        else:
            message = f"the job's process exited with code {code}; see the server log"
        # A job the flow already marked failed keeps the flow's own reason.
        mark_not_started(self.settings, job_id, message, progress_message="Stopped")

    def cancel_pending(self, job_id: str) -> bool:
        with self._lock:
            if job_id in self._running:
                return False
            self._waiting.pop(job_id, None)
            return True

    def is_active(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._waiting or job_id in self._running

    def shutdown(self) -> None:
        with self._lock:
            self._stopped = True
            running = dict(self._running)
            interrupted = sorted({*running, *self._waiting})
            self._waiting.clear()
        for _ in self._workers:
            self._queue.put(None)
        _stop_process_groups(list(running.values()), self.stop_grace_seconds)
        for job_id in interrupted:
            try:
                # Over whatever a dying flow wrote: it failed because it was stopped.
                mark_not_started(
                    self.settings,
                    job_id,
                    INTERRUPTED,
                    progress_message="Interrupted",
                    statuses=("queued", "running", "failed"),
                )
            except Exception as exc:  # a database gone at shutdown must not hide the others
                log.warning("could not mark job %s as interrupted: %s", job_id, exc)


def _stop_process_groups(children: list[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM each child's process group; SIGKILL what is left after `grace` seconds."""
    for child in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
    # The group may outlive its leader (a Prefect server, an ffmpeg): end it in any case.
    for child in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)


class PrefectLauncher(JobLauncher):
    kind: RunnerKind = "prefect"

    def __init__(self, api_url: str, deployment: str = DEPLOYMENT_NAME) -> None:
        self.api_url = api_url
        self.deployment = deployment

    async def start(self, job_id: str, *, resume: bool = False) -> str | None:
        from prefect.deployments import arun_deployment
        from prefect.exceptions import ObjectNotFound

        from tasks.errors import one_line

        parameters: dict[str, object] = {"job_id": job_id}
        if resume:
            parameters["resume"] = True
        try:
            run = await arun_deployment(
                self.deployment, parameters=parameters, timeout=0, as_subflow=False
            )
        except ObjectNotFound:
            raise LaunchError(
                f"the Prefect deployment {self.deployment!r} does not exist on {self.api_url}; "
                "deploy the flows first"
            ) from None
        except Exception as exc:
            raise LaunchError(
                f"cannot start a run on Prefect at {self.api_url}: {one_line(exc)}"
            ) from None
        return str(run.id)


def configured_prefect_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile."""
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None


def choose_launcher(settings: Settings, runner: str = "auto", max_parallel: int = 1) -> JobLauncher:
    """`auto`: the Prefect deployment when a Prefect server is configured, else local."""
    if runner not in ("auto", "local", "prefect"):
        raise ApiConfigError(f"runner {runner!r} is not valid; use auto, local or prefect")
    url = configured_prefect_url() if runner != "local" else None
    if runner == "prefect" and not url:
        raise ApiConfigError("the prefect runner needs PREFECT_API_URL (the Prefect server's API)")
    if url:
        return PrefectLauncher(url)
    return LocalLauncher(settings, max_parallel)
