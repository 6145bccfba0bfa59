"""Deployments: prefect.yaml, the reprocess and cleanup flows, the stack definitions.

Fast tests check the wiring that needs no server: the compose file and the local
launcher describe the same services, the S3 trigger of prefect.yaml renders the bridge's
event into the flow's parameters, and the reprocess flow picks the right jobs.

The slow tests run the stack as local processes (deploy/local_stack.py): a real Prefect
server on the throwaway PostgreSQL, `prefect deploy --all`, a process worker, the
bridge's webhook, moto's S3 on loopback; an uploaded lecture goes through the whole
pipeline from one notification.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
import yaml
from sqlalchemy import func, select, update

from bridge.identity import event_id_for, job_id_for
from bridge.records import parse_notification
from bridge.sinks import DeploymentSink, EventSink, Upload, build_event
from bridge.sqs import sqs_client
from db.engine import dispose_engines, get_engine, session_scope
from db.models import Clip, Job, ProcessingLog
from deploy.local_stack import LocalStack, stack_env
from deploy.services import (
    APP_SERVICES,
    COMPOSE,
    COMPOSE_PORTS,
    PROJECT_DIR,
    STACK_ENV,
    WORK_POOL,
    Endpoints,
    Ports,
    read_env_file,
)
from flows.jobs import PIPELINE_VERSION, create_job
from flows.maintenance import find_candidates, outdated_reason, queue_for_reprocess
from highlights.settings import Settings, load_settings
from highlights.storage import open_storage, upload_key
from tests.media_samples import SHARED_MEDIA
from tests.services import PostgresServer, S3Server, free_port

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"
PREFECT_YAML = PROJECT_DIR / "prefect.yaml"
LECTURE = Path(__file__).parent / "fixtures" / "lectures" / "screen.mp4"
# A short real talk (42 s): the reprocessing scenario runs a second whole job.
SHORT_TALK = SHARED_MEDIA / "example.mp4"


def load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


# --- the stack is described once --------------------------------------------------------


def test_compose_runs_the_launchers_commands_with_the_same_settings() -> None:
    services = load_yaml(COMPOSE_FILE)["services"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["command"] == COMPOSE_PORTS.command(name), name
        assert service["env_file"] == "deploy/stack.env", name
        assert service["environment"] == COMPOSE.env(), name
        assert service["build"] == "." and service["image"] == "lecture-highlights:latest"
    published = {name: services[name].get("ports", []) for name in APP_SERVICES}
    assert published["prefect-server"] == [
        f"{COMPOSE_PORTS.prefect_port}:{COMPOSE_PORTS.prefect_port}"
    ]
    assert published["api"] == [f"{COMPOSE_PORTS.api_port}:{COMPOSE_PORTS.api_port}"]
    # Compose service names are the hosts in the compose addresses.
    assert "@postgres:5432/" in COMPOSE.database_url and "minio:9000" in COMPOSE.s3_endpoint_url
    assert COMPOSE.prefect_api_url == f"http://prefect-server:{COMPOSE_PORTS.prefect_port}/api"
    # MinIO posts to the bridge's port.
    webhook = services["minio"]["environment"]["MINIO_NOTIFY_WEBHOOK_ENDPOINT_BRIDGE"]
    assert webhook == f"http://bridge:{COMPOSE_PORTS.bridge_port}/minio"
    # Start order: the worker, bridge and API wait for the registration.
    for name in ("worker", "bridge", "api"):
        assert (
            services[name]["depends_on"]["register"]["condition"]
            == "service_completed_successfully"
        )


def test_stack_env_values_that_must_agree_do() -> None:
    env = read_env_file(STACK_ENV)
    assert env["MINIO_ROOT_USER"] == env["AWS_ACCESS_KEY_ID"]
    assert env["MINIO_ROOT_PASSWORD"] == env["AWS_SECRET_ACCESS_KEY"]
    assert env["PGPASSWORD"] == env["POSTGRES_PASSWORD"]
    assert env["MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_BRIDGE"] == env["HIGHLIGHTS_BRIDGE_TOKEN"]
    assert f"//{env['POSTGRES_USER']}@" in COMPOSE.database_url
    assert f"//{env['POSTGRES_USER']}@" in COMPOSE.prefect_database_url
    # Uploads and the pipeline's files may share a bucket, never a folder.
    assert env["HIGHLIGHTS_STORAGE_URL"].startswith(f"s3://{env['HIGHLIGHTS_UPLOAD_BUCKET']}/")
    assert not env["HIGHLIGHTS_UPLOAD_PREFIX"].startswith(
        env["HIGHLIGHTS_STORAGE_URL"].split("/", 3)[3])  # fmt: skip
    # Every variable prefect.yaml takes from the environment is set.
    used = set(re.findall(r"\{\{\s*\$(\w+)\s*\}\}", json.dumps(load_yaml(PREFECT_YAML))))
    assert used == {"HIGHLIGHTS_UPLOAD_BUCKET", "HIGHLIGHTS_UPLOAD_PREFIX"}
    assert used <= env.keys()


def test_launcher_environment_layers_stack_env_addresses_and_overrides() -> None:
    endpoints = Endpoints("postgresql://u@h:1/a", "postgresql+asyncpg://u@h:1/p",
                          "http://127.0.0.1:9/api", "http://127.0.0.1:8", "http://127.0.0.1:9/api")  # fmt: skip
    env = stack_env(endpoints, {"HIGHLIGHTS_UPLOAD_PREFIX": "mine/"}, base={"PATH": "/usr/bin"})
    assert env["HIGHLIGHTS_UPLOAD_BUCKET"] == read_env_file(STACK_ENV)["HIGHLIGHTS_UPLOAD_BUCKET"]
    assert env["HIGHLIGHTS_UPLOAD_PREFIX"] == "mine/"
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:9/api"
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert Ports(host="127.0.0.1", bridge_port=1234).command("bridge") == [
        "python", "-m", "bridge.webhook", "--host", "127.0.0.1", "--port", "1234"]  # fmt: skip


def test_every_pool_name_is_the_same() -> None:
    config = load_yaml(PREFECT_YAML)
    assert {d["work_pool"]["name"] for d in config["deployments"]} == {WORK_POOL}
    assert f"POOL={WORK_POOL}" in (PROJECT_DIR / "deploy" / "register.sh").read_text()
    assert WORK_POOL in load_yaml(COMPOSE_FILE)["services"]["worker"]["command"]


# --- prefect.yaml -----------------------------------------------------------------------


def deployment_config(name: str) -> dict[str, Any]:
    [config] = [d for d in load_yaml(PREFECT_YAML)["deployments"] if d["name"] == name]
    return config


def test_entrypoints_load_the_flows_they_name() -> None:
    from prefect.flows import load_flow_from_entrypoint

    names = {}
    for config in load_yaml(PREFECT_YAML)["deployments"]:
        flow = load_flow_from_entrypoint(str(PROJECT_DIR / config["entrypoint"]))
        names[config["name"]] = flow.name
    # The API's launcher and the bridge's deployment mode start "process-lecture/process-lecture".
    assert names == {"process-lecture": "process-lecture",
                     "reprocess-lectures": "reprocess-lectures",
                     "cleanup-old-jobs": "cleanup-old-jobs"}  # fmt: skip


def test_schedules() -> None:
    from prefect.client.schemas.schedules import CronSchedule

    assert [s["cron"] for s in deployment_config("reprocess-lectures")["schedules"]] == [
        "*/30 * * * *"
    ]
    assert [s["cron"] for s in deployment_config("cleanup-old-jobs")["schedules"]] == ["15 3 * * *"]
    assert deployment_config("cleanup-old-jobs")["parameters"] == {"older_than_days": 30}
    for name in ("reprocess-lectures", "cleanup-old-jobs"):
        for schedule in deployment_config(name)["schedules"]:
            CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])  # valid cron


def _trigger(monkeypatch: pytest.MonkeyPatch, bucket: str, prefix: str) -> Any:
    """The trigger as `prefect deploy` builds it with these variables set."""
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers
    from prefect.utilities.templating import apply_values

    monkeypatch.setenv("HIGHLIGHTS_UPLOAD_BUCKET", bucket)
    monkeypatch.setenv("HIGHLIGHTS_UPLOAD_PREFIX", prefix)
    import os

    config = apply_values(
        deployment_config("process-lecture"), dict(os.environ), remove_notset=False
    )
    [trigger] = _initialize_deployment_triggers(config["name"], config["triggers"])
    return trigger


def _render(trigger: Any, event: Any) -> dict[str, Any]:
    """The run parameters as the server's RunDeployment action renders them."""
    from prefect.server.events.actions import RunDeployment
    from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

    parameters = copy.deepcopy(trigger.parameters)
    RunDeployment._upgrade_v1_templates(parameters)
    context = HydrationContext(
        render_jinja=True, jinja_context={"event": event}, raise_on_error=True
    )
    return hydrate(parameters, context)


def _upload(bucket: str, key: str, etag: str = "e1") -> Upload:
    return Upload(bucket=bucket, key=key, etag=etag, size=10, job_id=f"job-{etag}",
                  event_id=uuid.uuid4(), event_time=None, source="minio")  # fmt: skip


def test_s3_trigger_matches_the_bridges_events_and_passes_bucket_key_and_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trigger = _trigger(monkeypatch, "lectures", "incoming/")
    assert trigger.expect == {"s3.object.created"}
    assert trigger.posture == "Reactive" and trigger.threshold == 1
    assert trigger.for_each == {"prefect.resource.id"}  # every upload fires on its own

    upload = _upload("lectures", "incoming/Week 1/Intro à la physique.mp4")
    event = build_event(upload)
    assert trigger.match.includes([event.resource])
    assert _render(trigger, event) == upload.parameters()
    assert upload.parameters() == {"bucket": "lectures", "job_id": "job-e1",
                                   "key": "incoming/Week 1/Intro à la physique.mp4"}  # fmt: skip

    for bucket, key in (("lectures", "elsewhere/a.mp4"), ("other", "incoming/a.mp4")):
        assert not trigger.match.includes([build_event(_upload(bucket, key)).resource])


def test_an_empty_prefix_matches_the_whole_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    trigger = _trigger(monkeypatch, "lectures", "")
    assert trigger.match.includes([build_event(_upload("lectures", "a/b/c.mp4")).resource])
    assert not trigger.match.includes([build_event(_upload("lectures2", "c.mp4")).resource])


# --- picking jobs to reprocess -----------------------------------------------------------


@pytest.fixture
def settings(s3_env: dict[str, str], sqlite_template: Path, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:  # fmt: skip
    database = tmp_path / "highlights.db"
    shutil.copyfile(sqlite_template, database)
    monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", f"sqlite:///{database}")
    yield load_settings()
    dispose_engines()


def seed_job(settings: Settings, *, status: str, failure: dict[str, Any] | None = None,
             failed_minutes_ago: float = 60.0, metadata: dict[str, Any] | None = None,
             source: str = "s3://uploads/incoming/lecture.mp4",
             created_days_ago: float = 0.0) -> str:  # fmt: skip
    """A job in a given state; `failure` is the metadata of its final failed log row."""
    job_id = create_job(settings, source)
    now = datetime.now(UTC)
    with session_scope(get_engine(settings)) as session:
        job = session.scalars(select(Job).where(Job.job_id == job_id)).one()
        job.status = status
        job.metadata_ = {**job.metadata_, **(metadata or {})}
        job.created_at = now - timedelta(days=created_days_ago)
        if status in ("failed", "completed"):
            job.completed_at = now - timedelta(minutes=failed_minutes_ago)
        if failure is not None:
            session.add(ProcessingLog(job_id=job_id, stage="transcription", status="failed",
                                      error_message="upstream said 503", metadata_=failure))  # fmt: skip
    if status == "running":
        with session_scope(get_engine(settings)) as session:  # no onupdate: set it as it was
            session.execute(update(Job).where(Job.job_id == job_id).values(
                updated_at=now - timedelta(minutes=failed_minutes_ago)))  # fmt: skip
    return job_id


TRANSIENT = {"final": True, "transient": True, "attempt": 3}
PERMANENT = {"final": True, "transient": False, "attempt": 1}


def test_transient_failures_are_picked_with_backoff_and_a_limit(settings: Settings) -> None:
    due = seed_job(settings, status="failed", failure=TRANSIENT, failed_minutes_ago=10)
    permanent = seed_job(settings, status="failed", failure=PERMANENT)
    exhausted = seed_job(settings, status="failed", failure=TRANSIENT,
                         metadata={"reprocess_attempts": 3})  # fmt: skip
    too_soon = seed_job(settings, status="failed", failure=TRANSIENT, failed_minutes_ago=1)
    # After one attempt the wait doubles: 5 -> 10 minutes.
    backing_off = seed_job(settings, status="failed", failure=TRANSIENT, failed_minutes_ago=8,
                           metadata={"reprocess_attempts": 1})  # fmt: skip
    second = seed_job(settings, status="failed", failure=TRANSIENT, failed_minutes_ago=11,
                      metadata={"reprocess_attempts": 1})  # fmt: skip
    no_log = seed_job(settings, status="failed")
    stuck = seed_job(settings, status="running", failed_minutes_ago=300)  # never got a flow run
    busy = seed_job(settings, status="running", failed_minutes_ago=5)
    s3_event = {"trigger": {"kind": "s3-event", "etag": "e"}}
    lost = seed_job(settings, status="queued", metadata=s3_event, created_days_ago=0.05)
    fresh = seed_job(settings, status="queued", metadata=s3_event)  # its run may yet start
    api_queue = seed_job(settings, status="queued", created_days_ago=0.05)  # not the bridge's
    seed_job(settings, status="completed", metadata={"pipeline_version": "0.1.0"})

    chosen, notes = find_candidates(settings, max_attempts=3, retry_after_minutes=5,
                                    stale_after_minutes=120, include_outdated=False, limit=20)  # fmt: skip
    picked = {c.job_id: c for c in chosen}
    assert set(picked) == {due, second, stuck, lost}
    assert picked[lost].reason == "lost_trigger" and "without a flow run" in picked[lost].detail
    assert picked[due].reason == "transient_failure" and picked[due].attempt == 1
    assert picked[due].detail == "transcription: upstream said 503"
    assert picked[second].attempt == 2
    assert picked[stuck].reason == "stale_run" and "MISSING" in picked[stuck].detail
    for job_id in (permanent, too_soon, backing_off, busy, fresh, api_queue):
        assert job_id not in picked
    text = "\n".join(notes)
    assert f"{exhausted}: gave up after 3 reprocess attempts" in text
    assert f"{no_log}: failed without a stage log" in text
    assert f"{backing_off}: next attempt after" in text

    limited, _ = find_candidates(settings, max_attempts=3, retry_after_minutes=5,
                                 stale_after_minutes=120, include_outdated=False, limit=1)  # fmt: skip
    assert len(limited) == 1


def test_outdated_jobs_only_on_request(settings: Settings) -> None:
    old = seed_job(settings, status="completed", metadata={"pipeline_version": "0.9.0"})
    other_model = seed_job(settings, status="completed", metadata={"transcriber": "openai"})
    current = seed_job(settings, status="completed")

    chosen, _ = find_candidates(settings, max_attempts=3, retry_after_minutes=5,
                                stale_after_minutes=120, include_outdated=True, limit=20)  # fmt: skip
    reasons = {c.job_id: c.detail for c in chosen if c.reason == "outdated"}
    assert set(reasons) == {old, other_model}
    assert reasons[old] == f"pipeline_version '0.9.0' -> '{PIPELINE_VERSION}'"
    assert reasons[other_model] == "transcriber 'openai' -> 'local'"
    assert current not in reasons
    assert outdated_reason({"pipeline_version": PIPELINE_VERSION, "transcriber": "local",
                            "analyzer": "local"}, settings) is None  # fmt: skip


def test_queueing_records_the_attempt_and_chooses_the_parameters(settings: Settings) -> None:
    failed = seed_job(settings, status="failed", failure=TRANSIENT, failed_minutes_ago=30)
    [candidate], _ = find_candidates(settings, max_attempts=3, retry_after_minutes=5,
                                     stale_after_minutes=120, include_outdated=False, limit=5)  # fmt: skip
    parameters, sequence = queue_for_reprocess(settings, candidate)
    assert parameters == {"job_id": failed, "resume": True} and sequence == 1
    with session_scope(get_engine(settings)) as session:
        job = session.scalars(select(Job).where(Job.job_id == failed)).one()
        assert job.status == "queued"
        assert job.metadata_["reprocess_attempts"] == 1
        assert job.metadata_["reprocess_history"][0]["reason"] == "transient_failure"
        assert job.progress_message.startswith("Queued for retry 1 after: transcription")

    # An outdated job is run again in full, from its stored original.
    outdated = seed_job(settings, status="completed",
                        metadata={"pipeline_version": "0.9.0", "reprocess_attempts": 2})  # fmt: skip
    storage = open_storage(settings)
    key = upload_key(outdated, "lecture.mp4")
    storage.put_bytes(b"stored original", key)
    [candidate], _ = find_candidates(settings, max_attempts=3, retry_after_minutes=5,
                                     stale_after_minutes=120, include_outdated=True, limit=5)  # fmt: skip
    parameters, sequence = queue_for_reprocess(settings, candidate)
    assert parameters == {"job_id": outdated, "resume": False,
                          "source": f"{settings.storage_url}/{key}"}  # fmt: skip
    assert sequence == 1
    with session_scope(get_engine(settings)) as session:
        metadata = session.scalars(select(Job).where(Job.job_id == outdated)).one().metadata_
    assert metadata["pipeline_version"] == PIPELINE_VERSION
    assert metadata["reprocessed_from"]["pipeline_version"] == "0.9.0"
    assert metadata["reprocess_attempts"] == 0


# --- the stack as local processes (slow) --------------------------------------------------


def _wait_for(
    predicate: Any, timeout: float, interval: float = 2.0, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Stack:
    """The running stack and what the tests need to talk to it."""

    def __init__(self, local: LocalStack, s3: S3Server, prefix: str, env: dict[str, str]) -> None:
        self.local = local
        self.s3 = s3
        self.prefix = prefix  # unique to this module: storage under it, uploads beside it
        self.upload_prefix = f"{prefix}-incoming/"
        self.env = env

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.local.ports.bridge_port}/minio"

    def client(self) -> Any:
        from prefect.client.orchestration import get_client

        return get_client(sync_client=True)

    def notify(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        token = read_env_file(STACK_ENV)["HIGHLIGHTS_BRIDGE_TOKEN"]
        response = httpx.post(self.webhook, json=body, timeout=120,
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert response.status_code == 200, response.text
        return response.json()["decisions"]

    def deployment(self, name: str) -> Any:
        with self.client() as client:
            return client.read_deployment_by_name(name)

    def flow_runs(self, deployment_name: str) -> list[Any]:
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

        deployment = self.deployment(deployment_name)
        with self.client() as client:
            return client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
            )

    def logs(self, service: str, chars: int = 4000) -> str:
        path = self.local.log_path(service)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def minio_notification(bucket: str, key: str, etag: str, size: int) -> dict[str, Any]:
    return {"EventName": "s3:ObjectCreated:Put", "Key": f"{bucket}/{key}", "Records": [{
        "eventVersion": "2.0", "eventSource": "minio:s3", "eventName": "s3:ObjectCreated:Put",
        "eventTime": datetime.now(UTC).isoformat(),
        "s3": {"bucket": {"name": bucket},
               "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag}},
    }]}  # fmt: skip


@pytest.fixture(scope="module")
def stack(pg_server: PostgresServer, s3_server: S3Server,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:  # fmt: skip
    from prefect.settings import PREFECT_API_URL, temporary_settings

    root = tmp_path_factory.mktemp("stack")
    app_db, prefect_db = pg_server.create_database(), pg_server.create_database()
    ports = Ports(host="127.0.0.1", prefect_port=free_port(), bridge_port=free_port(),
                  api_port=free_port())  # fmt: skip
    api_url = f"http://127.0.0.1:{ports.prefect_port}/api"
    endpoints = Endpoints(
        database_url=pg_server.url(app_db),
        # Prefect's own database on PostgreSQL too, through asyncpg.
        prefect_database_url=f"postgresql+asyncpg://{pg_server.superuser}@127.0.0.1:{pg_server.port}/{prefect_db}",
        prefect_api_url=api_url, s3_endpoint_url=s3_server.endpoint_url, ui_api_url=api_url,
    )  # fmt: skip
    prefix = f"d-{uuid.uuid4().hex[:10]}"
    overrides = {
        **s3_server.env(prefix),
        "HIGHLIGHTS_UPLOAD_BUCKET": s3_server.bucket,
        "HIGHLIGHTS_UPLOAD_PREFIX": f"{prefix}-incoming/",
        "HIGHLIGHTS_WORK_DIR": str(root / "work"),
        "HIGHLIGHTS_CLIP_COUNT": "2",
        "HIGHLIGHTS_CLIP_MIN_SECONDS": "10",
        "HIGHLIGHTS_CLIP_MAX_SECONDS": "40",
        "HIGHLIGHTS_RETRY_DELAYS": "0",
        "PREFECT_HOME": str(root / "prefect-home"),
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    local = LocalStack(endpoints, ports, overrides, log_dir=root / "logs")
    env = {k: v for k, v in local.env.items() if k.startswith(("HIGHLIGHTS_", "AWS_"))}
    with pytest.MonkeyPatch.context() as patch, temporary_settings({PREFECT_API_URL: api_url}):
        for name, value in env.items():  # this process runs flows and queries too
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
            patch.delenv(name, raising=False)
        try:
            local.start(APP_SERVICES)
            yield Stack(local, s3_server, prefix, env)
        finally:
            local.stop()
            dispose_engines()
            pg_server.drop_database(app_db)
            pg_server.drop_database(prefect_db)


@pytest.mark.slow
@pytest.mark.postgres
def test_deploy_registers_the_trigger_and_the_schedules(stack: Stack) -> None:
    from prefect.events.actions import RunDeployment

    process = stack.deployment("process-lecture/process-lecture")
    reprocess = stack.deployment("reprocess-lectures/reprocess-lectures")
    cleanup = stack.deployment("cleanup-old-jobs/cleanup-old-jobs")
    assert {process.work_pool_name, reprocess.work_pool_name, cleanup.work_pool_name} == {WORK_POOL}
    assert [s.schedule.cron for s in reprocess.schedules] == ["*/30 * * * *"]
    assert all(s.active for s in reprocess.schedules)
    assert [s.schedule.cron for s in cleanup.schedules] == ["15 3 * * *"]
    assert cleanup.parameters == {"older_than_days": 30}
    assert process.schedules == []

    with stack.client() as client:
        [automation] = client.read_automations_by_name("process-uploaded-lecture")
    assert automation.enabled
    assert automation.trigger.expect == {"s3.object.created"}
    assert automation.trigger.match.model_dump() == {
        "prefect.resource.id": f"s3://{stack.s3.bucket}/{stack.upload_prefix}*"}  # fmt: skip
    [action] = automation.actions
    assert isinstance(action, RunDeployment) and action.deployment_id == process.id

    # The API of the stack answers, and starts its jobs on the worker pool.
    api = f"http://127.0.0.1:{stack.local.ports.api_port}"
    assert httpx.get(f"{api}/health", timeout=30).status_code == 200
    token = read_env_file(STACK_ENV)["HIGHLIGHTS_API_TOKEN"]
    info = httpx.get(f"{api}/info", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert info.status_code == 200, info.text
    assert (info.json()["runner"], info.json()["storage"]) == ("prefect", "s3")


@pytest.mark.slow
@pytest.mark.postgres
def test_an_uploaded_lecture_is_processed_once(stack: Stack) -> None:
    s3 = stack.s3.client()
    key = f"{stack.upload_prefix}Week 1/Écrans et caméras.mp4"
    etag = s3.put_object(Bucket=stack.s3.bucket, Key=key, Body=LECTURE.read_bytes(),
                         ContentType="video/mp4")["ETag"].strip('"')  # fmt: skip
    notes_key = f"{stack.upload_prefix}Week 1/notes.txt"
    notes_etag = s3.put_object(Bucket=stack.s3.bucket, Key=notes_key,
                               Body=b"reading list")["ETag"].strip('"')  # fmt: skip
    body = minio_notification(stack.s3.bucket, key, etag, LECTURE.stat().st_size)

    [decision] = stack.notify(body)
    assert decision["action"] == "triggered", decision
    job_id = decision["job_id"]
    assert job_id == job_id_for(parse_notification(body)[0])
    [ignored] = stack.notify(minio_notification(stack.s3.bucket, notes_key, notes_etag, 12))
    assert ignored["action"] == "ignored" and ".txt" in ignored["reason"]

    # The trigger starts a run of process-lecture on the worker, for this upload.
    runs = _wait_for(lambda: stack.flow_runs("process-lecture/process-lecture"), 120,
                     what="a flow run of process-lecture\n" + stack.logs("prefect-server"))  # fmt: skip
    assert len(runs) == 1
    assert runs[0].parameters == {"bucket": stack.s3.bucket, "key": key, "job_id": job_id}

    # S3 says it again: through the webhook, and through SQS wrapped by SNS.
    [again] = stack.notify(body)
    assert again["action"] in ("resent", "duplicate")  # "resent" while the run has not started
    sqs = sqs_client(stack.s3.endpoint_url, stack.s3.region)
    queue_url = sqs.create_queue(QueueName=f"uploads-{stack.prefix}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(
        {"Type": "Notification", "Message": json.dumps(body)}))  # fmt: skip
    poller = subprocess.run(
        [sys.executable, "-m", "bridge.sqs", "--queue-url", queue_url, "--endpoint-url",
         stack.s3.endpoint_url, "--region", stack.s3.region, "--wait", "1", "--once"],
        cwd=PROJECT_DIR, env=stack.local.env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert poller.returncode == 0, poller.stderr[-3000:]
    decided = re.findall(rf"INFO bridge: (\w+) s3://{re.escape(stack.s3.bucket)}/", poller.stderr)
    assert decided in (["resent"], ["duplicate"]), poller.stderr[-3000:]
    # Past the bridge's checks, Prefect itself drops an event id it has seen.
    [parsed] = parse_notification(body)
    EventSink().submit(Upload(bucket=parsed.bucket, key=parsed.key, etag=parsed.etag,
                              size=parsed.size, job_id=job_id, event_id=event_id_for(parsed),
                              event_time=None, source="test"))  # fmt: skip

    def finished() -> Any:
        [run] = stack.flow_runs("process-lecture/process-lecture")
        return run if run.state and run.state.is_final() else None

    run = _wait_for(finished, 480, interval=5, what="the process-lecture run to finish")
    settings = load_settings()
    with session_scope(get_engine(settings)) as session:
        job = session.scalars(select(Job).where(Job.job_id == job_id)).one()
        assert run.state.is_completed(), (
            f"{run.state.message}; job: {job.error_message}\n{stack.logs('worker')}"
        )
        assert job.status == "completed" and job.celery_task_id == str(run.id)
        assert job.metadata_["source"] == f"s3://{stack.s3.bucket}/{key}"
        clips = session.scalars(select(Clip).where(Clip.job_id == job_id)).all()
        sources = [j.metadata_.get("source") for j in session.scalars(select(Job)).all()]
    assert clips, "the job completed without clips"
    storage = open_storage(settings)
    for clip in clips:
        assert storage.exists(clip.s3_key) and storage.size(clip.s3_key) > 10_000
        assert clip.thumbnail_s3_key and storage.exists(clip.thumbnail_s3_key)
    # One upload, one job, one run: the duplicates made nothing.
    assert sources.count(f"s3://{stack.s3.bucket}/{key}") == 1
    assert len(stack.flow_runs("process-lecture/process-lecture")) == 1

    # The bridge's `deployment` mode: run_deployment keyed by the job id, so asking twice
    # gives the same run; that run finds the job done and does no work.
    upload = Upload(bucket=parsed.bucket, key=parsed.key, etag=parsed.etag, size=parsed.size,
                    job_id=job_id, event_id=event_id_for(parsed), event_time=None, source="test")  # fmt: skip
    sink = DeploymentSink("process-lecture/process-lecture")
    first, second = sink.submit(upload), sink.submit(upload)
    assert first == second

    def direct_run() -> Any:
        with stack.client() as client:
            run = client.read_flow_run(uuid.UUID(first))
        return run if run.state and run.state.is_final() else None

    run = _wait_for(direct_run, 240, what="the deployment-mode run to finish")
    assert run.state.is_completed() and run.parameters == upload.parameters()
    assert len(stack.flow_runs("process-lecture/process-lecture")) == 2
    assert [s for s in _sources() if s == f"s3://{stack.s3.bucket}/{key}"] == [
        f"s3://{stack.s3.bucket}/{key}"]  # fmt: skip


def _sources() -> list[str | None]:
    with session_scope(get_engine(load_settings())) as session:
        return [j.metadata_.get("source") for j in session.scalars(select(Job)).all()]


def _jobs_with_source(source: str) -> list[Job]:
    with session_scope(get_engine(load_settings())) as session:
        return [
            j for j in session.scalars(select(Job)).all() if j.metadata_.get("source") == source
        ]


@pytest.mark.slow
@pytest.mark.postgres
def test_reprocess_completes_a_job_that_failed_while_storage_was_down(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.lecture import process_lecture
    from flows.maintenance import reprocess_lectures

    assert SHORT_TALK.is_file(), f"{SHORT_TALK} (shared test media) is missing"
    key = f"{stack.upload_prefix}retry/talk.mp4"
    stack.s3.client().upload_file(str(SHORT_TALK), stack.s3.bucket, key)
    source = f"s3://{stack.s3.bucket}/{key}"
    # The object store is unreachable for this run (nothing listens on the port).
    monkeypatch.setenv("HIGHLIGHTS_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(Exception, match="uploading"):
        process_lecture(source=source)
    monkeypatch.setenv("HIGHLIGHTS_S3_ENDPOINT_URL", stack.s3.endpoint_url)  # back up

    [job] = _jobs_with_source(source)
    assert job.status == "failed" and job.error_message.startswith("uploading:")
    with session_scope(get_engine(load_settings())) as session:
        final = session.scalars(select(ProcessingLog).where(
            ProcessingLog.job_id == job.job_id, ProcessingLog.status == "failed")
            .order_by(ProcessingLog.id.desc())).first()  # fmt: skip
    assert final.metadata_["final"] is True and final.metadata_["transient"] is True

    # A reprocess run while the store is still down: the attempt fails again and counts.
    monkeypatch.setenv("HIGHLIGHTS_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    inline = reprocess_lectures(retry_after_minutes=0, inline=True)
    monkeypatch.setenv("HIGHLIGHTS_S3_ENDPOINT_URL", stack.s3.endpoint_url)
    [outcome] = [o for o in inline["jobs"] if o["job_id"] == job.job_id]
    assert (outcome["result"], outcome["attempt"]) == ("failed", 1)
    assert outcome["error"].startswith("uploading: cannot download")
    [job] = _jobs_with_source(source)
    assert job.status == "failed" and job.metadata_["reprocess_attempts"] == 1

    result = reprocess_lectures(retry_after_minutes=0)
    [outcome] = [o for o in result["jobs"] if o["job_id"] == job.job_id]
    assert outcome["reason"] == "transient_failure" and outcome["result"] == "submitted"
    assert outcome["attempt"] == 2
    assert outcome["parameters"] == {"job_id": job.job_id, "resume": True}

    def finished() -> Any:
        with stack.client() as client:
            run = client.read_flow_run(uuid.UUID(outcome["flow_run_id"]))
        return run if run.state and run.state.is_final() else None

    run = _wait_for(finished, 480, interval=5, what="the reprocessing run to finish")
    assert run.state.is_completed(), f"{run.state.message}\n{stack.logs('worker')}"
    [job] = _jobs_with_source(source)
    assert job.status == "completed" and job.error_message is None
    assert job.metadata_["reprocess_attempts"] == 2
    assert [h["reason"] for h in job.metadata_["reprocess_history"]] == ["transient_failure"] * 2
    with session_scope(get_engine(load_settings())) as session:
        uploading = session.scalars(select(ProcessingLog.status).where(
            ProcessingLog.job_id == job.job_id, ProcessingLog.stage == "uploading")
            .order_by(ProcessingLog.id)).all()  # fmt: skip
        clips = session.scalar(
            select(func.count()).select_from(Clip).where(Clip.job_id == job.job_id)
        )
    assert uploading[-1] == "completed" and "failed" in uploading
    assert clips > 0
    # Done: the next scheduled run leaves it alone.
    again = reprocess_lectures(retry_after_minutes=0)
    assert job.job_id not in [o["job_id"] for o in again["jobs"]]


@pytest.mark.slow
@pytest.mark.postgres
def test_cleanup_deployment_removes_old_jobs_and_their_files(stack: Stack) -> None:
    from prefect.deployments import run_deployment

    settings = load_settings()
    storage = open_storage(settings)

    def job_with_files(status: str, age_days: float) -> str:
        job_id = seed_job(settings, status=status, created_days_ago=age_days)
        for key in (upload_key(job_id, "lecture.mp4"), f"results/{job_id}/clip_001.mp4",
                    f"work/{job_id}/audio.wav"):  # fmt: skip
            storage.put_bytes(b"x" * 100, key)
        return job_id

    old_completed = job_with_files("completed", 40)
    old_failed = job_with_files("failed", 31)
    old_running = job_with_files("running", 45)  # still at work: never removed
    recent = job_with_files("completed", 2)

    run = run_deployment("cleanup-old-jobs/cleanup-old-jobs", timeout=300, poll_interval=2)
    assert run.state.is_completed(), f"{run.state.message}\n{stack.logs('worker')}"
    with session_scope(get_engine(settings)) as session:
        left = set(session.scalars(select(Job.job_id)).all())
    for gone in (old_completed, old_failed):
        assert gone not in left
        assert [k for k in storage.list("") if gone in k] == []
    for kept in (old_running, recent):
        assert kept in left
        assert len([k for k in storage.list("") if kept in k]) == 3
