"""Fault tolerance of the whole pipeline: crashes, outages and full disks mid-run.

Every test runs the real flow (Prefect, ffmpeg, PostgreSQL; S3 on moto where the store
matters) on a short lecture, injects one fault while a chosen stage runs, and checks the
outcome the way an operator would: the job either completes or fails with a one-line
reason, a retry finishes it, nothing is lost (every table holds what its stage reported),
nothing is duplicated, every `clips` row points at objects that exist, and no scratch
file is left on the worker's disk.

The remote AI APIs are local fakes speaking their wire protocols (tests/fakes), so the
real SDKs and their retry code run.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import db.models as orm
from db.engine import get_engine, session_scope
from db.migrate import init_db
from db.models import STAGES
from highlights.settings import Settings, load_settings
from highlights.storage import open_storage
from tests.fakes.gemini_server import FakeGemini, RecordedRequest, Reply, error_reply, json_reply
from tests.fakes.openai_server import FakeWhisperServer
from tests.services import PostgresServer, S3Server, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SCREEN = Path(__file__).parent / "fixtures" / "lectures" / "screen.mp4"
CLIPS = 2
RESULT_FILES = {
    "transcript.json",
    "transcript.srt",
    "transcript.vtt",
    "slides.json",
    "chapters.txt",
}
WHISPER_KEY = "sk-fault-tests"
GEMINI_KEY = "gemini-fault-tests"


# -- set-up -----------------------------------------------------------------------------


@pytest.fixture
def configure(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Settings]:
    """Point the app at a fresh PostgreSQL database, a scratch folder and a store.

    `configure(s3=..., work_dir=..., **env)`: the store is a folder unless `s3` gives an
    S3 environment (from `s3_env`); extra env vars are set as given; stage retries wait
    0.5 s unless HIGHLIGHTS_RETRY_DELAYS is given. Returns the loaded settings.
    """

    def apply(
        *, s3: dict[str, str] | None = None, work_dir: Path | None = None, **env: str
    ) -> Settings:
        for name in (
            "HIGHLIGHTS_TRANSCRIBER",
            "HIGHLIGHTS_ANALYZER",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "GEMINI_API_KEY",
            "GOOGLE_API_KEY",
            "GOOGLE_GEMINI_BASE_URL",
            "HIGHLIGHTS_S3_ENDPOINT_URL",
        ):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", postgres_url)
        monkeypatch.setenv("HIGHLIGHTS_STORAGE_URL", str(tmp_path / "store"))
        for name, value in (s3 or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("HIGHLIGHTS_WORK_DIR", str(work_dir or tmp_path / "work"))
        monkeypatch.setenv("HIGHLIGHTS_RETRY_DELAYS", "0.5")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        init_db(settings.database_url)
        return settings

    return apply


def run_flow(
    settings: Settings, job_id: str | None = None, *, resume: bool = False
) -> tuple[str, Any]:
    """Run the flow in this process; the job id and the flow run's final state."""
    from flows.jobs import create_job
    from flows.lecture import process_lecture

    if job_id is None:
        job_id = create_job(settings, str(SCREEN), {"clips": CLIPS})
    return job_id, process_lecture(job_id=job_id, resume=resume, return_state=True)


def cli_command(*args: str) -> list[str]:
    entry = Path(sys.executable).with_name("highlights")
    return [str(entry), *args] if entry.exists() else [sys.executable, "-m", "cli.main", *args]


def run_cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=dict(os.environ),
    )


# -- reading the database ---------------------------------------------------------------


def job_row(settings: Settings, job_id: str | None = None) -> orm.Job | None:
    with session_scope(get_engine(settings)) as session:
        query = select(orm.Job) if job_id is None else select(orm.Job).where(orm.Job.job_id == job_id)
        return session.scalars(query.order_by(orm.Job.id)).first()


def logs(settings: Settings, job_id: str) -> list[orm.ProcessingLog]:
    with session_scope(get_engine(settings)) as session:
        return list(
            session.scalars(
                select(orm.ProcessingLog)
                .where(orm.ProcessingLog.job_id == job_id)
                .order_by(orm.ProcessingLog.created_at, orm.ProcessingLog.id)
            )
        )


def has_log(settings: Settings, job_id: str, stage: str, status: str) -> bool:
    with session_scope(get_engine(settings)) as session:
        return bool(
            session.scalar(
                select(func.count())
                .select_from(orm.ProcessingLog)
                .where(
                    orm.ProcessingLog.job_id == job_id,
                    orm.ProcessingLog.stage == stage,
                    orm.ProcessingLog.status == status,
                )
            )
        )


def attempts(settings: Settings, job_id: str) -> Counter[str]:
    """How many times each stage started, over every run of the job."""
    return Counter(e.stage for e in logs(settings, job_id) if e.status == "started")


def wait_for(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    alive: Callable[[], bool] = lambda: True,
    interval: float = 0.05,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the database may be briefly unreachable
            value = condition()
            if value:
                return value
        if not alive():
            raise AssertionError(f"gave up waiting for {what}: the run ended first")
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def assert_consistent(settings: Settings, job_id: str, *, completed: bool) -> dict[str, int]:
    """Nothing duplicated, every clip's objects stored, no scratch left on this machine;
    for a completed job, also nothing lost: each table holds exactly the rows its stage's
    last `completed` log reported. Returns the row counts."""
    storage = open_storage(settings)
    with session_scope(get_engine(settings)) as session:
        job = session.scalars(select(orm.Job).where(orm.Job.job_id == job_id)).one()

        def rows(*columns: Any) -> list[tuple[Any, ...]]:
            table = columns[0].class_
            return [
                tuple(r) for r in session.execute(select(*columns).where(table.job_id == job_id))
            ]

        transcripts = rows(orm.TranscriptRow.start_time, orm.TranscriptRow.end_time, orm.TranscriptRow.text)
        silences = rows(
            orm.SilenceRow.start_time, orm.SilenceRow.end_time, orm.SilenceRow.silence_type
        )
        layouts = rows(orm.LayoutAnalysis.layout_type)
        segments = list(
            session.scalars(select(orm.ContentSegment).where(orm.ContentSegment.job_id == job_id))
        )
        clips = list(session.scalars(select(orm.Clip).where(orm.Clip.job_id == job_id)))
    entries = logs(settings, job_id)

    assert len(transcripts) == len(set(transcripts)), "duplicate transcript rows"
    assert len(silences) == len(set(silences)), "duplicate silence rows"
    assert len(layouts) <= 1, "more than one layout row"
    assert len({s.segment_order for s in segments}) == len(segments), "duplicate segments"
    assert len({(s.start_time, s.end_time) for s in segments}) == len(segments), (
        "duplicate segments"
    )
    assert len({c.clip_order for c in clips}) == len(clips), "duplicate clips"
    segment_ids = {s.segment_id for s in segments}
    referenced: set[str] = set()
    for clip in clips:
        assert clip.content_segment_id in segment_ids, f"{clip.clip_id} points at a missing segment"
        keys = (
            clip.s3_key,
            clip.thumbnail_s3_key,
            clip.subtitle_s3_key,
            clip.metadata_.get("vtt_s3_key"),
        )
        for key in keys:
            assert key and storage.exists(key), f"{clip.clip_id} points at a missing object {key!r}"
            referenced.add(key)
        assert storage.size(clip.s3_key) == clip.metadata_["file_size"]
    # Each attempt writes one `started` row and at most one end row.
    started = Counter(
        (e.stage, e.metadata_.get("task_run_id"), e.metadata_.get("attempt"))
        for e in entries
        if e.status == "started"
    )
    assert all(n == 1 for n in started.values()), started
    ends = Counter(e.stage for e in entries if e.status != "started")
    begins = Counter(e.stage for e in entries if e.status == "started")
    assert all(ends[s] <= begins[s] for s in ends), (ends, begins)
    # The job's scratch folder on this machine is gone, whatever the outcome.
    assert not (settings.work_dir / job_id).exists(), "the job's scratch folder was left behind"
    assert not list(settings.work_dir.glob("whisper-chunks-*")), "API chunk files were left behind"

    counts = {
        "transcripts": len(transcripts),
        "silence_regions": len(silences),
        "layout_analysis": len(layouts),
        "content_segments": len(segments),
        "clips": len(clips),
    }
    if not completed:
        return counts
    assert job.status == "completed" and job.error_message is None, (job.status, job.error_message)
    assert job.progress_percent == 100.0
    latest = {e.stage: e for e in entries if e.status == "completed"}
    assert set(latest) == set(STAGES), sorted(latest)
    assert counts["transcripts"] == latest["transcription"].metadata_["rows"] > 0
    assert counts["silence_regions"] == latest["silence_detection"].metadata_["rows"]
    assert counts["layout_analysis"] == 1
    assert counts["content_segments"] == latest["content_analysis"].metadata_["rows"] > 0
    # As many clips as were planned (the lecture may offer fewer topics than asked for).
    assert 1 <= counts["clips"] == latest["compilation"].metadata_["rows"] <= CLIPS
    assert latest["segmentation"].metadata_["clips_planned"] == counts["clips"]
    assert storage.size(job.original_s3_key) == SCREEN.stat().st_size
    stored = set(storage.list(f"results/{job_id}/"))
    for name in ("transcript.json", "transcript.srt", "transcript.vtt"):
        assert f"results/{job_id}/{name}" in stored
    # No clip file of an earlier, failed attempt is left beside this run's clips.
    clip_objects = {k for k in stored if k.rsplit("/", 1)[-1] not in RESULT_FILES}
    assert clip_objects == referenced, clip_objects ^ referenced
    assert not storage.list(f"work/{job_id}/"), "work artefacts outlived the completed job"
    return counts


# -- a process killed mid-transcription -------------------------------------------------


def test_killed_mid_transcription_then_retry_force_completes(
    configure: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = configure()
    out, err = (tmp_path / "process.out").open("w"), (tmp_path / "process.err").open("w")
    worker = subprocess.Popen(
        cli_command("process", str(SCREEN), "--clips", str(CLIPS), "--json"),
        stdout=out,
        stderr=err,
        cwd=ROOT,
        env=dict(os.environ),
        start_new_session=True,
    )
    try:
        job = wait_for(lambda: job_row(settings), 600, "the job row", lambda: worker.poll() is None)
        wait_for(
            lambda: has_log(settings, job.job_id, "transcription", "started"),
            600,
            "transcription to start",
            lambda: worker.poll() is None,
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finally:
        # What a crashed machine leaves: the CLI's own children (the ephemeral Prefect
        # server, any ffmpeg) die with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
        out.close()
        err.close()
    assert worker.returncode == -signal.SIGKILL
    job_id = job.job_id
    from flows.jobs import completed_stages

    done_before = completed_stages(settings, job_id)
    assert "uploading" in done_before and "transcription" not in done_before, done_before
    assert job_row(settings, job_id).status == "running"  # nobody was left to say otherwise

    refused = run_cli("retry", job_id, "--json", timeout=120)
    assert refused.returncode == 2 and "--force" in json.loads(refused.stdout)["error"]

    retried = run_cli("retry", job_id, "--force", "--json")
    assert retried.returncode == 0, retried.stderr[-3000:]
    assert json.loads(retried.stdout)["status"] == "completed"
    started = attempts(settings, job_id)
    assert started["transcription"] == 2
    for stage in done_before:  # stages that had finished were reused, not run again
        assert started[stage] == 1, (stage, started)
    assert_consistent(settings, job_id, completed=True)


# -- PostgreSQL restarted mid-run -------------------------------------------------------


def restart_postgres(server: PostgresServer, down_seconds: float) -> None:
    """Restart the cluster as an operator would (every connection is cut), staying down
    for a while. A fast shutdown, not a crash: the test cluster runs without
    synchronous commits, so a crash would lose acknowledged commits by design."""
    server._run("pg_ctl", "-D", str(server.data_dir), "-m", "fast", "-w", "stop")
    time.sleep(down_seconds)
    # Without a running server, `pg_ctl restart` starts it with the options it last had.
    server._run(
        "pg_ctl",
        "-D",
        str(server.data_dir),
        "-l",
        str(server.log_file),
        "-w",
        "-t",
        "60",
        "restart",
    )


@pytest.mark.parametrize(
    ("latency", "down_seconds", "when"),
    [
        pytest.param(25.0, 3.0, "siblings_done", id="down-while-a-stage-computes"),
        pytest.param(0.5, 8.0, "transcription_started", id="down-when-stages-write"),
    ],
)
def test_postgres_restart_mid_run_the_job_still_completes(
    configure: Callable[..., Settings],
    pg_server: PostgresServer,
    latency: float,
    down_seconds: float,
    when: str,
) -> None:
    """The database goes away while the analysis branches run.

    Down while transcription computes (waiting on the API), the other branches done:
    the pooled connections are dead when the stage writes, pre-ping replaces them, and
    the run goes on without a single failed attempt. Down when the branches write their
    rows and logs: the writes wait for the database, the failed attempts are retried
    once it is back, and the job completes in the same run.
    """
    with FakeWhisperServer(api_key=WHISPER_KEY, latency=latency) as whisper:
        settings = configure(
            HIGHLIGHTS_TRANSCRIBER="openai",
            OPENAI_API_KEY=WHISPER_KEY,
            OPENAI_BASE_URL=whisper.base_url,
            HIGHLIGHTS_RETRY_DELAYS="4,8",
        )
        from flows.jobs import create_job

        job_id = create_job(settings, str(SCREEN), {"clips": CLIPS})
        restarted: list[bool] = []
        flow_done = threading.Event()

        def ready() -> bool:
            if when == "transcription_started":
                return has_log(settings, job_id, "transcription", "started")
            return all(
                has_log(settings, job_id, stage, "completed")
                for stage in ("silence_detection", "layout_analysis")
            )

        def fault() -> None:
            wait_for(ready, 600, f"the moment to restart ({when})", lambda: not flow_done.is_set())
            computing = not has_log(settings, job_id, "transcription", "completed")
            restart_postgres(pg_server, down_seconds)
            restarted.append(computing)

        injector = threading.Thread(target=fault, daemon=True)
        injector.start()
        try:
            _, state = run_flow(settings, job_id)
        finally:
            flow_done.set()
            injector.join(120)
    assert restarted == [True], "the database was not restarted while transcription ran"
    assert state.is_completed(), state.message
    entries = logs(settings, job_id)
    failed = [
        (e.stage, e.metadata_.get("final"), e.error_message)
        for e in entries
        if e.status == "failed"
    ]
    if when == "siblings_done":
        assert not failed, failed
    else:  # attempts may have failed over the database, but each was retried
        assert all(final is False for _, final, _ in failed), failed
    assert attempts(settings, job_id)["uploading"] == 1
    assert_consistent(settings, job_id, completed=True)


# -- the AI APIs rate-limit, fail, and recover (or never do) ----------------------------


LINE = re.compile(r"^\[(\d+)\] ", re.MULTILINE)
TITLES = ("Hash Table Collisions", "Balanced Search Trees", "Graph Traversal Orders")


def topics_reply(request: RecordedRequest) -> Reply:
    """A good model's answer: the lines it was sent split into up to three topics."""
    shown = [int(i) for i in LINE.findall(request.texts[0])]
    lo, hi = min(shown), max(shown)
    count = max(1, min(len(TITLES), (hi - lo + 1) // 3))
    bounds = [lo + round(k * (hi - lo + 1) / count) for k in range(count)] + [hi + 1]
    return json_reply(
        {
            "segments": [
                {
                    "first_line": bounds[k],
                    "last_line": bounds[k + 1] - 1,
                    "topic": TITLES[k],
                    "description": f"How {TITLES[k].lower()} work.",
                    "importance": 0.9 - 0.3 * k,
                    "keywords": TITLES[k].lower().split(),
                    "concepts": ["data structures"],
                }
                for k in range(count)
            ]
        }
    )


def api_env(whisper: FakeWhisperServer, gemini: FakeGemini, **extra: str) -> dict[str, str]:
    return {
        "HIGHLIGHTS_TRANSCRIBER": "openai",
        "OPENAI_API_KEY": WHISPER_KEY,
        "OPENAI_BASE_URL": whisper.base_url,
        "HIGHLIGHTS_ANALYZER": "gemini",
        "GEMINI_API_KEY": GEMINI_KEY,
        "GOOGLE_GEMINI_BASE_URL": gemini.base_url,
        **extra,
    }


def stage_log(settings: Settings, job_id: str, stage: str) -> list[tuple[str, Any]]:
    return [
        (e.status, e.metadata_.get("final")) for e in logs(settings, job_id) if e.stage == stage
    ]


def test_rate_limited_apis_recover_and_the_job_completes(
    configure: Callable[..., Settings],
) -> None:
    with (
        FakeWhisperServer(api_key=WHISPER_KEY) as whisper,
        FakeGemini(api_key=GEMINI_KEY, fallback=topics_reply) as gemini,
    ):
        # Whisper: more failures than one stage attempt's 5 tries, so the stage itself is
        # retried; the first come with Retry-After, the 503s with none (own back-off).
        whisper.fail_next(429, count=3, headers={"retry-after": "0.2"})
        whisper.fail_next(503, count=3)
        # Gemini: six failures against the SDK's 5 attempts per call, likewise.
        gemini.queue(error_reply(429), *[error_reply(503, "The model is overloaded.")] * 5)
        settings = configure(**api_env(whisper, gemini))
        job_id, state = run_flow(settings)
    assert state.is_completed(), state.message
    assert [u.status for u in whisper.uploads] == [429, 429, 429, 503, 503, 503, 200]
    assert len(gemini.requests) == 7
    for stage in ("transcription", "content_analysis"):
        assert stage_log(settings, job_id, stage) == [
            ("started", None),
            ("failed", False),
            ("started", None),
            ("completed", None),
        ]
    with session_scope(get_engine(settings)) as session:
        topics = set(
            session.scalars(select(orm.ContentSegment.topic).where(orm.ContentSegment.job_id == job_id))
        )
    assert topics <= set(TITLES) and topics, topics  # Gemini's answer, not the local fallback
    assert_consistent(settings, job_id, completed=True)


@pytest.mark.parametrize("broken", ["transcription", "content_analysis"])
def test_api_that_never_recovers_fails_the_job_within_the_retry_budget(
    configure: Callable[..., Settings],
    broken: str,
) -> None:
    with (
        FakeWhisperServer(api_key=WHISPER_KEY) as whisper,
        FakeGemini(api_key=GEMINI_KEY, fallback=topics_reply) as gemini,
    ):
        if broken == "transcription":
            whisper.fail_always(503)
            # Per stage attempt, 5 tries with back-off 1+2+4+8 s (jitter only shortens it).
            budget = 15.0
        else:
            gemini.fallback = lambda request: error_reply(503, "The model is overloaded.")
            # Per stage attempt, the SDK's 5 tries with back-off 2+4+8+16 s plus jitter <= 1 s.
            budget = 34.0
        settings = configure(**api_env(whisper, gemini))
        job_id, state = run_flow(settings)
    assert state.is_failed()
    job = job_row(settings, job_id)
    assert job.status == "failed" and job.current_stage == broken
    message = job.error_message
    assert message.startswith(f"{broken}: ") and "\n" not in message and "503" in message
    if broken == "transcription":
        assert "OpenAI server error" in message and "gave up" in message, message
        assert [u.status for u in whisper.uploads] == [503] * 10
    else:
        assert "Gemini API unavailable after 5 attempt(s)" in message, message
        assert "try again later" in message
        assert len(gemini.requests) == 10
    # Two attempts (the first and one retry after HIGHLIGHTS_RETRY_DELAYS=0.5), then a final failure.
    entries = [e for e in logs(settings, job_id) if e.stage == broken]
    assert [(e.status, e.metadata_.get("final")) for e in entries] == [
        ("started", None),
        ("failed", False),
        ("started", None),
        ("failed", True),
    ]
    spent = (entries[-1].created_at - entries[0].created_at).total_seconds()
    assert spent < 2 * budget + 0.5 + 20, f"{broken} took {spent:.0f} s to give up"
    assert_consistent(settings, job_id, completed=False)


# -- the object store unreachable during compilation ------------------------------------


class Unpluggable:
    """A TCP forwarder in front of a server, with a cable to pull.

    `unplug()` closes the listening socket and cuts every open connection, so clients see
    refused connections (the store is down); `plug()` listens again on the same port.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plug(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def unplug(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # unplugged
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def unpluggable_s3(
    s3_server: S3Server, s3_env: dict[str, str]
) -> Iterator[tuple[Unpluggable, dict[str, str]]]:
    host, port = s3_server.endpoint_url.removeprefix("http://").split(":")
    cable = Unpluggable((host, int(port)))
    cable.plug()
    yield cable, {**s3_env, "HIGHLIGHTS_S3_ENDPOINT_URL": cable.url}
    cable.unplug()


def test_object_store_down_during_compilation_fails_cleanly_then_retry_completes(
    configure: Callable[..., Settings],
    unpluggable_s3: tuple[Unpluggable, dict[str, str]],
) -> None:
    cable, s3 = unpluggable_s3
    settings = configure(s3=s3)
    from flows.jobs import create_job

    job_id = create_job(settings, str(SCREEN), {"clips": CLIPS})
    clips_dir = settings.work_dir / job_id / "clips"
    unplugged: list[float] = []
    flow_done = threading.Event()

    def fault() -> None:
        # Pull the cable once rendering is under way: the source was fetched, the clips
        # are being encoded, and their uploads will find the store gone.
        wait_for(
            lambda: has_log(settings, job_id, "compilation", "started"),
            900,
            "compilation to start",
            lambda: not flow_done.is_set(),
        )
        wait_for(
            lambda: clips_dir.is_dir() and any(clips_dir.iterdir()),
            600,
            "the first clip render",
            lambda: not flow_done.is_set(),
            interval=0.02,
        )
        cable.unplug()
        unplugged.append(time.monotonic())

    injector = threading.Thread(target=fault, daemon=True)
    injector.start()
    try:
        _, state = run_flow(settings, job_id)
    finally:
        flow_done.set()
        injector.join(60)
    assert unplugged, "the store was never unplugged"
    gave_up = time.monotonic() - unplugged[0]
    assert state.is_failed()
    job = job_row(settings, job_id)
    assert job.status == "failed" and job.current_stage == "compilation"
    assert job.error_message.startswith("compilation: s3 storage "), job.error_message
    assert "cannot reach" in job.error_message or "Could not connect" in job.error_message, (
        job.error_message
    )
    entries = [e for e in logs(settings, job_id) if e.stage == "compilation"]
    assert [(e.status, e.metadata_.get("final")) for e in entries] == [
        ("started", None),
        ("failed", False),
        ("started", None),
        ("failed", True),
    ]
    # boto3's 3 tries per call, one stage retry after 0.5 s: bounded, not hanging on the
    # connect timeout or Prefect's stage timeout.
    assert gave_up < 90, f"the job took {gave_up:.0f} s to fail once the store was down"
    counts = assert_consistent(settings, job_id, completed=False)
    assert counts["clips"] == 0  # no row was written for clips that were never stored

    cable.plug()
    _, state = run_flow(settings, job_id, resume=True)
    assert state.is_completed(), state.message
    started = attempts(settings, job_id)
    assert started["compilation"] == 3 and started["uploading"] == 1, started
    assert started["transcription"] == 1 and started["content_analysis"] == 1, started
    assert_consistent(settings, job_id, completed=True)


# -- the work directory's disk fills up -------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 20 MB tmpfs: a disk that can really fill up."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a size-limited tmpfs (needs root or CAP_SYS_ADMIN): "
            f"{done.stderr.strip() or done.returncode}"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_disk(path: Path) -> int:
    """Write `path` until the filesystem under it is full; the bytes written."""
    written = 0
    block = b"\0" * (256 * 1024)
    with path.open("wb") as handle:
        while True:
            try:
                handle.write(block)
                handle.flush()
                written += len(block)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    with contextlib.suppress(OSError), path.open("ab", buffering=0) as handle:
        while handle.write(b"\0" * 4096):  # squeeze out the last partial block
            written += 4096
    return written


def test_full_disk_during_compilation_fails_cleanly_and_leaves_no_temp_files(
    configure: Callable[..., Settings],
    small_disk: Path,
) -> None:
    settings = configure(work_dir=small_disk / "work")
    from flows.jobs import create_job

    job_id = create_job(settings, str(SCREEN), {"clips": CLIPS})
    ballast = small_disk / "ballast"
    flow_done = threading.Event()

    def fault() -> None:
        wait_for(
            lambda: has_log(settings, job_id, "compilation", "started"),
            900,
            "compilation to start",
            lambda: not flow_done.is_set(),
        )
        fill_disk(ballast)

    injector = threading.Thread(target=fault, daemon=True)
    injector.start()
    try:
        _, state = run_flow(settings, job_id)
    finally:
        flow_done.set()
        injector.join(60)
    assert ballast.exists(), "the disk was never filled"
    assert state.is_failed()
    job = job_row(settings, job_id)
    assert job.status == "failed" and job.current_stage == "compilation"
    assert job.error_message.startswith("compilation: ") and "\n" not in job.error_message
    assert "no space left on device" in job.error_message.lower(), job.error_message
    final = [
        e for e in logs(settings, job_id) if e.stage == "compilation" and e.status == "failed"
    ][-1]
    assert "no space left on device" in final.error_message.lower()
    counts = assert_consistent(settings, job_id, completed=False)
    assert counts["clips"] == 0
    # Nothing of the job is left on the full disk: only the ballast (and the empty work root).
    leftovers = [p for p in small_disk.rglob("*") if p != ballast and p != settings.work_dir]
    assert not leftovers, leftovers

    ballast.unlink()
    _, state = run_flow(settings, job_id, resume=True)
    assert state.is_completed(), state.message
    assert attempts(settings, job_id)["uploading"] == 1
    assert_consistent(settings, job_id, completed=True)
    assert not [p for p in small_disk.rglob("*") if p != settings.work_dir]
