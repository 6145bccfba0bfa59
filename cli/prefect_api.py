"""A temporary Prefect API for one CLI run, booted beside the work that precedes the flow.

Without `PREFECT_API_URL`, Prefect starts an ephemeral API server (uvicorn in a
subprocess) the first time a flow needs one, and it is all on the critical path: the
client first imports the server package to find the launcher (4 s on two cores), then
waits for the subprocess to import the same package again and answer (10 s). A short
lecture paid 14-16 s before its first stage, as much as its stages took.

Here the CLI launches the same server (the same app factory and environment Prefect's
ephemeral mode uses) as soon as it knows there is no configured API, and points this
process's Prefect settings at it. The subprocess boots on the other core while this one
imports the flow and its stages, and this process never imports the server package.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import httpx

# Prefect's own ephemeral-mode environment: no UI, ephemeral services only.
_SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


class ApiStartError(RuntimeError):
    """The temporary Prefect API did not come up."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporaryApi:
    """A Prefect API server subprocess on a free loopback port."""

    def __init__(self, extra_env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error",
             "--lifespan", "on"],
            env={**os.environ, **extra_env, **_SERVER_ENV},
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self, timeout: float) -> None:
        """Block until the server answers its health check."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise ApiStartError(
                        f"the temporary Prefect API exited with code {self._process.returncode}: "
                        f"{self._output_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise ApiStartError(f"the temporary Prefect API did not answer within {timeout:.0f} s")

    def _output_tail(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return " | ".join(lines[-5:]) or "no output"

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()


def launch_if_unconfigured() -> TemporaryApi | None:
    """Launch a temporary API unless Prefect has one configured (environment or profile)."""
    from prefect.settings import PREFECT_API_URL, get_current_settings

    if PREFECT_API_URL.value():
        return None
    settings_env = get_current_settings().to_environment_variables(exclude_unset=True)
    return TemporaryApi({k: str(v) for k, v in settings_env.items()})


@contextmanager
def prefect_api(api: TemporaryApi | None, timeout: float) -> Iterator[None]:
    """Run the block against `api` (once it answers), or against the configured API."""
    if api is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api.wait_ready(timeout)
    with temporary_settings(updates={PREFECT_API_URL: api.url}):
        try:
            yield
        finally:
            deliver_pending(_DELIVERY_SECONDS)


# Events and logs of a finished job reach the API in well under a second here.
_DELIVERY_SECONDS = 10.0


def deliver_pending(timeout: float) -> None:
    """Send what Prefect's background workers still queue for the API, while it runs.

    The events and API-log workers connect when they start and keep that address; they
    are drained only at interpreter exit. A process that ran a job against a temporary
    API that has since stopped then waited at exit on a worker with a dead connection
    (the test process, which runs several jobs, hung for over 20 minutes). Draining
    stops the workers; the next job's flow starts fresh ones on its own API.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (EventsWorker, APILogWorker):
        worker.drain_all(timeout=timeout)
