"""Start a job's flow: in a thread of this server, or as a run of the Prefect deployment.

- `PrefectLauncher` (when a Prefect server is configured, PREFECT_API_URL): creates a
  flow run of the `process-lecture/process-lecture` deployment and returns at once; a
  worker of the deployment's pool runs it.
- `InProcessLauncher` (the embedded default): runs `process_lecture` in a small thread
  pool, so at most `max_parallel` jobs use the machine at once and the rest wait queued.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

from sqlalchemy import update

from api.errors import ApiConfigError
from db.engine import get_engine, session_scope
from db.models import Job, utcnow
from highlights.settings import Settings, load_settings

log = logging.getLogger("highlights.api")

DEPLOYMENT_NAME = "process-lecture/process-lecture"
RunnerKind = Literal["in-process", "prefect"]


class LaunchError(RuntimeError):
    """The job could not be handed to a runner; the message says which service failed."""


def mark_not_started(settings: Settings, job_id: str, message: str) -> None:
    """A job that never reached its flow: failed, with the reason, so it can be retried."""
    with session_scope(get_engine(settings)) as session:
        session.execute(
            update(Job)
            .where(Job.job_id == job_id, Job.status.in_(("queued", "running")))
            .values(
                status="failed",
                error_message=message[:2000],
                eta_seconds=None,
                progress_message="Could not start",
                completed_at=utcnow(),
            )
        )


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


class InProcessLauncher(JobLauncher):
    kind: RunnerKind = "in-process"

    def __init__(self, settings: Settings, max_parallel: int = 1) -> None:
        if max_parallel < 1:
            raise ApiConfigError(f"max_parallel must be at least 1, got {max_parallel}")
        self.settings = settings
        self.max_parallel = max_parallel
        self._executor = ThreadPoolExecutor(max_parallel, thread_name_prefix="highlights-job")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def check_environment(self) -> None:
        # The flow reads its settings from the environment (it also runs on workers), so
        # the server's settings must be the environment's or jobs would use another store.
        env = load_settings()
        for name in ("database_url", "storage_url", "work_dir"):
            if getattr(env, name) != getattr(self.settings, name):
                raise ApiConfigError(
                    f"the in-process runner needs the server settings to come from the "
                    f"environment, but {name} differs ({getattr(self.settings, name)!s} vs "
                    f"{getattr(env, name)!s}); set the HIGHLIGHTS_* variables instead"
                )

    def warm_up(self) -> None:
        self.check_environment()
        import flows.lecture  # noqa: F401 - import errors surface now, not at the first job

    async def start(self, job_id: str, *, resume: bool = False) -> str | None:
        with self._lock:
            future = self._executor.submit(self._run, job_id, resume)
            self._futures[job_id] = future
        future.add_done_callback(lambda done, job_id=job_id: self._forget(job_id, done))
        return None

    def _forget(self, job_id: str, future: Future[None]) -> None:
        with self._lock:
            if self._futures.get(job_id) is future:
                del self._futures[job_id]

    def _run(self, job_id: str, resume: bool) -> None:
        from tasks.errors import one_line

        try:
            from flows.lecture import process_lecture

            process_lecture(job_id=job_id, resume=resume)
        except Exception as exc:  # the flow has recorded the failing stage on the job row
            log.warning("job %s did not complete: %s", job_id, one_line(exc))
            # ...unless it failed before reaching any stage (settings, database, imports).
            mark_not_started(self.settings, job_id, f"could not start: {one_line(exc)}")

    def cancel_pending(self, job_id: str) -> bool:
        with self._lock:
            future = self._futures.get(job_id)
        return future is None or future.cancel()

    def is_active(self, job_id: str) -> bool:
        with self._lock:
            future = self._futures.get(job_id)
        return future is not None and not future.done()

    def shutdown(self) -> None:
        # Waiting jobs stay `queued` in the database; running ones finish in their thread.
        self._executor.shutdown(wait=False, cancel_futures=True)


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
    """`auto`: the Prefect deployment when a Prefect server is configured, else in-process."""
    if runner not in ("auto", "in-process", "prefect"):
        raise ApiConfigError(f"runner {runner!r} is not valid; use auto, in-process or prefect")
    url = configured_prefect_url() if runner != "in-process" else None
    if runner == "prefect" and not url:
        raise ApiConfigError("the prefect runner needs PREFECT_API_URL (the Prefect server's API)")
    if url:
        return PrefectLauncher(url)
    return InProcessLauncher(settings, max_parallel)
