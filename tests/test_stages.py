"""The stage registry, resume planning, progress/ETA and the job state changes, as units.

End-to-end runs (test_pipeline, test_faults, test_deployments) cover these through the
flow; here each rule is held on its own, so a change to one says which rule it broke.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db import jobstate
from db.engine import session_scope
from db.models import STAGES as SEED_STAGES
from db.models import Job
from flows import stages as registry
from flows.progress import JobProgress
from flows.stages import BRANCH_STAGES, STAGE_ORDER, STAGE_TASKS, STAGES, PipelineRun, stages_to_run
from highlights.settings import Settings, load_settings
from tasks.stage import TIMEOUT_FLOOR_SECONDS, listen_to_progress, report_progress

# -- the registry -----------------------------------------------------------------------


def test_registry_holds_every_seed_stage_once_in_pipeline_order() -> None:
    assert sorted(STAGE_ORDER) == sorted(SEED_STAGES)
    assert len(set(STAGE_ORDER)) == len(STAGE_ORDER)
    assert STAGE_ORDER[0] == "uploading" and STAGE_ORDER[-1] == "complete"
    assert STAGE_ORDER.index("content_analysis") < STAGE_ORDER.index("segmentation") \
        < STAGE_ORDER.index("compilation")
    # The three analysis branches share one step, and only they do.
    assert set(BRANCH_STAGES) == {"silence_detection", "transcription", "layout_analysis"}
    assert len({registry.stage(name).step for name in BRANCH_STAGES}) == 1
    others = [s.step for s in STAGES if s.name not in BRANCH_STAGES]
    assert len(set(others)) == len(others)


def test_each_stage_task_is_a_module_level_prefect_task_named_for_its_stage_taking_the_job_id() -> None:
    for spec in STAGES:
        task = STAGE_TASKS[spec.name]
        assert task.name == spec.name
        assert inspect.getmodule(task.fn).__name__ == f"tasks.{spec.name}"
        assert next(iter(inspect.signature(task.fn).parameters)) == "job_id"
        assert task.task_run_name is not None and "{job_id}" in str(task.task_run_name)
        assert spec.cost > 0 and spec.message and spec.timeout_per_minute > 0


def test_a_branch_is_a_chain_in_declared_order() -> None:
    branch_step = next(step for step in registry.STEPS if len(step) > 1)
    chains = [[s.name for s in chain] for chain in registry.lanes(branch_step)]
    assert sorted(chains) == [["layout_analysis", "silence_detection"], ["transcription"]]
    for spec in STAGES:
        if spec.after is not None:  # a stage follows one of its own step, placed before it
            assert registry.stage(spec.after).step == spec.step
            assert STAGE_ORDER.index(spec.after) < STAGE_ORDER.index(spec.name)


def test_stage_lookup_names_the_unknown_stage() -> None:
    assert registry.stage("transcription").name == "transcription"
    with pytest.raises(KeyError, match="rendering"):
        registry.stage("rendering")


def test_timeouts_scale_with_the_lecture_and_have_a_floor() -> None:
    transcription = registry.stage("transcription")
    short, hour = transcription.timeout_seconds(30.0), transcription.timeout_seconds(3600.0)
    assert short == TIMEOUT_FLOOR_SECONDS + transcription.timeout_per_minute  # one minute at least
    assert hour == TIMEOUT_FLOOR_SECONDS + 60 * transcription.timeout_per_minute
    assert transcription.timeout_seconds(None) == short


def test_agents_follow_the_configured_providers() -> None:
    local = load_settings({})
    remote = load_settings({"HIGHLIGHTS_TRANSCRIBER": "openai", "OPENAI_API_KEY": "sk-test",
                            "HIGHLIGHTS_ANALYZER": "gemini", "GEMINI_API_KEY": "g-test"})
    assert registry.stage("transcription").agent_name(local) == "faster-whisper"
    assert registry.stage("transcription").agent_name(remote) == "openai-whisper"
    assert registry.stage("content_analysis").agent_name(local) == "local-texttiling"
    assert registry.stage("content_analysis").agent_name(remote) == "gemini"


def test_a_configured_task_carries_this_runs_timeout_retries_and_hooks(tmp_path: Path) -> None:
    settings = load_settings({"HIGHLIGHTS_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
                              "HIGHLIGHTS_RETRY_DELAYS": "1,2,3"})
    progress = JobProgress(settings, "job-x", 600.0, STAGES)
    run = PipelineRun(settings, "job-x", progress, duration=600.0)
    transcription = run.task("transcription")
    assert transcription.timeout_seconds == registry.stage("transcription").timeout_seconds(600.0)
    assert transcription.retries == len(settings.retry_delays) == 3
    # Prefect only calls a retry condition that is a plain function.
    assert inspect.isfunction(transcription.retry_condition_fn)
    assert len(transcription.on_running_hooks) == 1 and len(transcription.on_failure_hooks) == 1
    assert run.task("complete").retries == 0  # marking done is never retried
    assert STAGE_TASKS["transcription"].retries == 0  # the module's task stays unconfigured


# -- resume planning --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        (set(), list(STAGE_ORDER)),
        ({"uploading"}, [s for s in STAGE_ORDER if s != "uploading"]),
        # A finished branch is reused when a sibling failed; everything after re-runs.
        ({"uploading", "silence_detection", "layout_analysis"},
         ["transcription", "content_analysis", "segmentation", "compilation", "complete"]),
        ({"uploading", *BRANCH_STAGES, "content_analysis"},
         ["segmentation", "compilation", "complete"]),
        # A later stage's old success does not survive an earlier stage running again.
        ({"uploading", "transcription", "compilation"},
         ["layout_analysis", "silence_detection", "content_analysis", "segmentation",
          "compilation", "complete"]),
        # Silence detection follows the layout stage in its branch (it reads the visual
        # samples that stage decodes): it runs again when the layout stage does.
        ({"uploading", "transcription", "silence_detection"},
         ["layout_analysis", "silence_detection", "content_analysis", "segmentation",
          "compilation", "complete"]),
        ({"uploading", "transcription", "layout_analysis"},
         ["silence_detection", "content_analysis", "segmentation", "compilation", "complete"]),
        (set(STAGE_ORDER) - {"complete"}, ["complete"]),
        (set(STAGE_ORDER), []),
    ],
)
def test_stages_to_run_resumes_from_the_first_unfinished_step(done: set[str], expected: list[str]) -> None:
    assert stages_to_run(done) == expected


# -- progress and ETA -------------------------------------------------------------------


class RecordingProgress(JobProgress):
    """JobProgress that keeps its writes instead of sending them to a database."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writes: list[dict[str, Any]] = []


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    writes: list[dict[str, Any]] = []
    monkeypatch.setattr(jobstate, "record_progress",
                        lambda settings, job_id, **values: writes.append(values))
    return writes


def _settings() -> Settings:
    return load_settings({})


def test_progress_is_weighted_by_stage_cost_and_branches_count_once_in_the_eta(
        recorded: list[dict[str, Any]]) -> None:
    progress = JobProgress(_settings(), "job-p", 1000.0, STAGES)
    total = sum(s.cost for s in STAGES)
    assert progress.percent() == 0.0
    progress.mark_done("uploading", seconds=registry.stage("uploading").cost * 1000.0)
    assert progress.percent() == round(100 * registry.stage("uploading").cost / total, 1)
    # Uploading ran exactly as expected, so the ETA is the expected rest, with the
    # branches overlapping: only the longest chain counts.
    branch_step = next(step for step in registry.STEPS if len(step) > 1)
    longest_branch = max(sum(s.cost for s in chain) for chain in registry.lanes(branch_step))
    after = sum(s.cost for s in STAGES if s.step > registry.stage("transcription").step)
    assert progress.eta_seconds() == round((longest_branch + after) * 1000.0)


def test_the_eta_rescales_by_how_fast_finished_stages_ran(recorded: list[dict[str, Any]]) -> None:
    fast = JobProgress(_settings(), "job-f", 1000.0, STAGES)
    slow = JobProgress(_settings(), "job-s", 1000.0, STAGES)
    expected = registry.stage("uploading").cost * 1000.0
    fast.mark_done("uploading", seconds=expected / 2)
    slow.mark_done("uploading", seconds=expected * 2)
    assert slow.eta_seconds() == pytest.approx(4 * fast.eta_seconds(), rel=0.01)


def test_remote_transcription_weighs_less(recorded: list[dict[str, Any]]) -> None:
    local = JobProgress(_settings(), "job-l", 600.0, STAGES)
    remote = JobProgress(_settings(), "job-r", 600.0, STAGES, remote=True)
    assert remote.cost["transcription"] < local.cost["transcription"]
    assert remote.eta_seconds() < local.eta_seconds()


def test_stage_writes_name_the_running_branches_and_finish_at_full_weight(
        recorded: list[dict[str, Any]]) -> None:
    progress = JobProgress(_settings(), "job-w", 600.0, STAGES)
    progress.stage_started("uploading")
    assert recorded[-1]["stage"] == "uploading"
    assert recorded[-1]["message"] == registry.stage("uploading").message
    progress.stage_finished("uploading")
    progress.stage_started("transcription")
    progress.stage_started("layout_analysis")
    assert recorded[-1]["message"] == "Transcribing speech + Sampling the video"
    before = progress.percent()
    progress.stage_progress("transcription", 0.5)
    assert progress.percent() > before
    progress.stage_progress("transcription", 1.5)  # in-stage progress never claims the end
    assert progress.fraction["transcription"] == 0.99
    progress.stage_finished("transcription")
    assert progress.fraction["transcription"] == 1.0


def test_in_stage_reports_reach_the_jobs_listener_only(recorded: list[dict[str, Any]]) -> None:
    heard: list[tuple[str, float]] = []
    listen_to_progress("job-a", lambda stage, fraction: heard.append((stage, fraction)))
    try:
        report_progress("job-a", "transcription", 0.25)
        report_progress("job-b", "transcription", 0.75)  # nobody listens: dropped
    finally:
        listen_to_progress("job-a", None)
    report_progress("job-a", "transcription", 0.5)
    assert heard == [("transcription", 0.25)]


# -- job state changes ------------------------------------------------------------------


def _new_job(settings: Settings, job_id: str, status: str = "queued") -> None:
    with session_scope(jobstate.get_engine(settings)) as session:
        session.add(Job(job_id=job_id, filename="a.mp4", file_size=1, content_type="video/mp4",
                        original_s3_key=f"uploads/{job_id}/a.mp4", status=status))


def _job(settings: Settings, job_id: str) -> Job:
    with session_scope(jobstate.get_engine(settings)) as session:
        job = session.scalars(select(Job).where(Job.job_id == job_id)).one()
        session.expunge(job)
        return job


def test_job_state_moves(db_url: str) -> None:
    settings = load_settings({"HIGHLIGHTS_DATABASE_URL": db_url})
    _new_job(settings, "job-1")
    assert jobstate.claim(settings, "job-1", "run-1", resume=False)
    assert not jobstate.claim(settings, "job-1", "run-2", resume=False)  # a duplicate run
    job = _job(settings, "job-1")
    assert (job.status, job.flow_run_id, job.celery_task_id) == ("running", "run-1", "run-1")

    jobstate.record_progress(settings, "job-1", stage="transcription", percent=42.0,
                             eta_seconds=30, message="x" * 900)
    job = _job(settings, "job-1")
    assert (job.current_stage, job.progress_percent, job.eta_seconds) == ("transcription", 42.0, 30)
    assert len(job.progress_message or "") == jobstate.MAX_MESSAGE_CHARS

    assert jobstate.mark_failed(settings, "job-1", "the API said no", stage="content_analysis")
    job = _job(settings, "job-1")
    assert job.status == "failed" and job.error_message == "content_analysis: the API said no"
    assert job.progress_message == "Failed during content analysis" and job.completed_at
    assert job.eta_seconds is None

    # A reprocessing run keeps the outcome until it starts; a retry clears it.
    jobstate.requeue(settings, "job-1", "Queued for retry 1", keep_outcome=True)
    assert _job(settings, "job-1").error_message == "content_analysis: the API said no"
    jobstate.restore_failed(settings, "job-1", "Reprocessing could not start: no worker")
    job = _job(settings, "job-1")
    assert job.status == "failed" and job.error_message == "content_analysis: the API said no"
    jobstate.requeue(settings, "job-1", "Waiting to resume")
    job = _job(settings, "job-1")
    assert (job.status, job.error_message, job.completed_at) == ("queued", None, None)

    assert jobstate.claim(settings, "job-1", "run-3", resume=True)
    jobstate.mark_completed(settings, "job-1", clips=1)
    job = _job(settings, "job-1")
    assert (job.status, job.progress_percent, job.progress_message) == ("completed", 100.0, "Done: 1 clip")
    # A late failure report does not overwrite a job that ended.
    assert not jobstate.mark_failed(settings, "job-1", "server stopped", only_if=("queued", "running"))
    assert _job(settings, "job-1").status == "completed"


def test_record_input_refuses_fields_that_are_not_input_facts(db_url: str) -> None:
    settings = load_settings({"HIGHLIGHTS_DATABASE_URL": db_url})
    _new_job(settings, "job-2")
    jobstate.record_input(settings, "job-2", file_size=1234, video_duration=61.5)
    assert _job(settings, "job-2").file_size == 1234
    with pytest.raises(ValueError, match="status"):
        jobstate.record_input(settings, "job-2", status="completed")
