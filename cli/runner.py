"""Run one job's flow in this process, with a live progress bar read from the jobs row."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from highlights.settings import Settings


@dataclass
class JobOutcome:
    job_id: str
    error: str | None


def _poll_progress(settings: Settings, job_id: str, stop: threading.Event, console: Console) -> None:
    from db.engine import get_engine, session_scope
    from db.queries import get_job

    columns = (TextColumn("[bold]{task.fields[stage]:<18}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
               TextColumn("ETA {task.fields[eta]}"), TimeElapsedColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("Starting", total=100, stage="queued", eta="?")
        while True:
            stopping = stop.wait(0.5)
            try:
                with session_scope(get_engine(settings)) as session:
                    job = get_job(session, job_id)
                    if job is not None:
                        eta = "-" if job.eta_seconds is None else f"{job.eta_seconds // 60}:{job.eta_seconds % 60:02d}"
                        bar.update(task, completed=job.progress_percent or 0.0,
                                   description=(job.progress_message or "")[:60],
                                   stage=job.current_stage or job.status, eta=eta)
            except Exception:  # a busy database must not kill the progress display
                pass
            if stopping:
                return


def _check_local_input(settings: Settings, job_id: str, source: str) -> str | None:
    """Refuse a local file that is empty, not media, truncated or over a limit before
    Prefect starts (seconds, not the ~15 s of an ephemeral server); the job and its
    timeline still say why. None when the file is fine (or is not local)."""
    if source.startswith("s3://"):
        return None
    from highlights.probe import MediaError
    from tasks.input_check import check_input, record_refusal

    began = time.monotonic()
    try:
        check_input(Path(source), settings)
    except MediaError as exc:
        record_refusal(settings, job_id, str(exc), time.monotonic() - began)
        return f"uploading: {exc}"
    return None


def run_job(settings: Settings, source: str | None, options: dict[str, Any], *, job_id: str | None = None,
            resume: bool = False, show_progress: bool = True, console: Console | None = None) -> JobOutcome:
    """Create (or resume) a job and run its flow to the end in this process."""
    from flows.jobs import create_job

    if job_id is None:
        assert source is not None
        job_id = create_job(settings, source, options)
        refusal = _check_local_input(settings, job_id, source)
        if refusal is not None:
            return JobOutcome(job_id, refusal)
    from cli.prefect_api import ApiStartError, launch_if_unconfigured, prefect_api
    from tasks.input_check import STAGE_NAME, record_failure_before_start

    began = time.monotonic()
    api = launch_if_unconfigured()  # Prefect loads here, after the input checks
    from db import jobstate
    from flows.lecture import process_lecture
    from tasks.errors import one_line

    stop = threading.Event()
    poller = None
    if show_progress:
        console = console or Console(stderr=True)
        console.print(f"Job [bold]{job_id}[/]")
        poller = threading.Thread(target=_poll_progress, args=(settings, job_id, stop, console), daemon=True)
        poller.start()
    error = None
    try:
        startup = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"))
        with prefect_api(api, startup):
            process_lecture(job_id=job_id, resume=resume)
    except ApiStartError as exc:
        record_failure_before_start(settings, job_id, str(exc), time.monotonic() - began,
                                    "ApiStartError", agent="prefect")
        error = f"{STAGE_NAME}: {exc}"
    except KeyboardInterrupt:
        jobstate.mark_failed(settings, job_id, "interrupted by the user")
        error = "interrupted"
        raise
    except Exception as exc:  # the job row already says which stage failed and why
        error = one_line(exc)
    finally:
        stop.set()
        if poller:
            poller.join(timeout=5)
        if api is not None:
            api.stop()
    return JobOutcome(job_id, error)
