"""The CLI's temporary Prefect API: it boots beside the CLI's own start-up, serves the
flow, stops with the run, and a server that cannot start fails the job with the reason."""

from __future__ import annotations

import socket

import httpx
import pytest

from cli.prefect_api import ApiStartError, TemporaryApi


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_temporary_api_answers_then_stops() -> None:
    api = TemporaryApi({})
    try:
        api.wait_ready(timeout=120)
        assert httpx.get(f"{api.url}/health", timeout=5).status_code == 200
        assert api.url.startswith("http://127.0.0.1:") and api.url.endswith("/api")
    finally:
        api.stop()
    assert not port_open(api.port)


def test_a_server_that_cannot_start_says_why(tmp_path) -> None:  # noqa: ANN001
    # A database URL nothing answers at: the server's start-up fails and it exits.
    api = TemporaryApi({"PREFECT_API_DATABASE_CONNECTION_URL":
                        "postgresql+asyncpg://nobody:secret@127.0.0.1:9/prefect"})
    try:
        with pytest.raises(ApiStartError, match="exited with code"):
            api.wait_ready(timeout=120)
    finally:
        api.stop()


# Two jobs in one process, each on its own temporary API, as a test process or a
# notebook runs them; then the interpreter exits.
_TWO_JOBS = """
import sys, time
from prefect import flow, task
from cli.prefect_api import TemporaryApi, prefect_api

@task(retries=0)
def stage(fail: bool) -> int:
    if fail:
        raise ValueError("a stage failed")
    return 1

@flow(name="tiny")
def tiny(fail: bool) -> int:
    return stage(fail)

for fail in (True, False, True):
    api = TemporaryApi({})
    try:
        with prefect_api(api, 120):
            state = tiny(fail, return_state=True)
            assert state.is_failed() == fail
    finally:
        api.stop()
print("done", time.monotonic(), flush=True)
"""


def test_a_process_that_ran_jobs_on_stopped_apis_exits_promptly(tmp_path) -> None:  # noqa: ANN001
    """Prefect's event and log workers keep the address of the API they first reached
    and drain at interpreter exit: left running after their API stopped, they held the
    process at exit for over 20 minutes. `prefect_api` delivers what they hold while
    the API still runs."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = tmp_path / "two_jobs.py"
    script.write_text(_TWO_JOBS)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    child = subprocess.Popen([sys.executable, str(script)], cwd=root, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = child.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        pytest.fail(f"the process did not exit: {out} {err[-2000:]}")
    assert child.returncode == 0, err[-2000:]
    finished_jobs = float(out.split()[-1])
    # exit takes the interpreter's own shutdown only (a hang was the bug)
    assert time.monotonic() - finished_jobs < 30, "the process waited at exit"
