"""Shared by the API tests: settings on a temp database and store, media, seeded jobs, a live server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

import db.models as orm
from db.engine import get_engine, session_scope
from highlights.ffmpeg import run_ffmpeg
from highlights.settings import Settings, load_settings
from highlights.storage import Storage
from tests.services import free_port

TOKEN = "test-token-0123456789abcdefghijklmnop"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPO = Path(__file__).resolve().parent.parent

# Variables a test must not inherit from the developer's shell.
_CLEARED = (
    "HIGHLIGHTS_API_AUTH",
    "HIGHLIGHTS_S3_ENDPOINT_URL",
    "PREFECT_API_URL",
    "HIGHLIGHTS_MAX_UPLOAD_BYTES",
    "HIGHLIGHTS_TRANSCRIBER",
    "HIGHLIGHTS_ANALYZER",
)


def api_environment(tmp_path: Path, sqlite_template: Path) -> dict[str, str]:
    """HIGHLIGHTS_* variables for a private SQLite database (migrated), store and work dir."""
    database = tmp_path / "api.db"
    shutil.copyfile(sqlite_template, database)
    return {
        "HIGHLIGHTS_DATABASE_URL": f"sqlite:///{database}",
        "HIGHLIGHTS_STORAGE_URL": str(tmp_path / "store"),
        "HIGHLIGHTS_WORK_DIR": str(tmp_path / "work"),
        "HIGHLIGHTS_API_TOKEN": TOKEN,
    }


def apply_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def make_media(path: Path, seconds: float = 1.0, *, size: str = "160x90") -> Path:
    """A small real H.264/AAC MP4 (a test pattern and a tone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg([
        "-f", "lavfi", "-i", f"testsrc=size={size}:rate=10:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
    ])  # fmt: skip
    return path


VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nTrees store keys in order.\n"
SRT = "1\n00:00:00,000 --> 00:00:01,500\nTrees store keys in order.\n"


@dataclass
class SeededJob:
    job_id: str
    clip_ids: list[str]  # in rank order
    segment_ids: list[str]
    clip_video: bytes


def seed_job(
    settings: Settings,
    storage: Storage,
    job_id: str,
    *,
    status: str = "completed",
    created_at: datetime | None = None,
    clip_video: bytes = b"",
    with_results: bool = True,
) -> SeededJob:
    """A job row with rows in every child table and its files in the store."""
    created = created_at or datetime.now(UTC)
    upload_key = f"uploads/{job_id}/lecture.mp4"
    with session_scope(get_engine(settings)) as session:
        session.add(orm.Job(
            job_id=job_id, filename="lecture.mp4", file_size=len(clip_video) or 1234,
            content_type="video/mp4", original_s3_key=upload_key, status=status,
            video_duration=240.0, progress_percent=100.0 if status == "completed" else 40.0,
            current_stage="complete" if status == "completed" else "transcription",
            progress_message="Done: 2 clips" if status == "completed" else "Transcribing speech",
            eta_seconds=0 if status == "completed" else 95,
            error_message="transcription: the audio stream does not decode" if status == "failed" else None,
            metadata_={"options": {"clips": 2}}, created_at=created, updated_at=created,
        ))  # fmt: skip
        session.flush()
        if not with_results:
            return SeededJob(job_id, [], [], clip_video)
        session.add_all([
            orm.TranscriptRow(job_id=job_id, start_time=12.0, end_time=15.0, text="Binary search trees keep keys in order."),
            orm.TranscriptRow(job_id=job_id, start_time=15.5, end_time=19.0, text="Hashing spreads keys over buckets."),
            orm.TranscriptRow(job_id=job_id, start_time=121.0, end_time=125.0, text="A balanced tree has logarithmic height."),
        ])  # fmt: skip
        session.add(
            orm.SilenceRow(
                job_id=job_id,
                start_time=19.0,
                end_time=24.0,
                duration=5.0,
                silence_type="audio_silence",
                amplitude_threshold=-40.0,
            )
        )
        session.add(orm.LayoutAnalysis(
            job_id=job_id, screen_region={"x": 0.0, "y": 0.0, "width": 0.7, "height": 1.0},
            camera_region={"x": 0.7, "y": 0.0, "width": 0.3, "height": 1.0}, split_ratio=0.7,
            layout_type="side_by_side", confidence_score=0.9,
        ))  # fmt: skip
        segments = [
            orm.ContentSegment(
                job_id=job_id,
                start_time=0.0,
                end_time=110.0,
                duration=110.0,
                topic="Hash tables",
                importance_score=0.55,
                keywords=["hash"],
                segment_order=1,
            ),
            orm.ContentSegment(
                job_id=job_id,
                start_time=110.0,
                end_time=240.0,
                duration=130.0,
                topic="Balanced trees",
                importance_score=0.9,
                keywords=["tree"],
                segment_order=2,
            ),
        ]
        session.add_all(segments)
        session.flush()
        clips = []
        for rank, (segment, start) in enumerate(((segments[1], 118.0), (segments[0], 10.0)), 1):
            clip = orm.Clip(
                job_id=job_id,
                content_segment_id=segment.segment_id,
                title=segment.topic,
                topic=segment.topic,
                importance_score=segment.importance_score,
                start_time=start,
                end_time=start + 40.0,
                duration=40.0,
                s3_key="",
                clip_order=rank,
                metadata_={},
            )
            clip.clip_id = f"clip_{job_id[-6:]}_{rank}"
            base = f"results/{job_id}/{clip.clip_id}"
            clip.s3_key = storage.put_bytes(clip_video or b"\x00" * 64, f"{base}.mp4")
            clip.thumbnail_s3_key = storage.put_bytes(b"\xff\xd8\xff\xe0thumb", f"{base}.jpg")
            clip.subtitle_s3_key = storage.put_bytes(SRT.encode(), f"{base}.srt")
            clip.metadata_ = {
                "vtt_s3_key": storage.put_bytes(VTT.encode(), f"{base}.vtt"),
                "width": 160,
                "height": 90,
            }
            clips.append(clip)
        session.add_all(clips)
        t0 = created + timedelta(seconds=1)
        session.add_all([
            orm.ProcessingLog(job_id=job_id, stage="uploading", status="started", created_at=t0),
            orm.ProcessingLog(job_id=job_id, stage="uploading", status="completed", agent_name="ingest (PyAV)",
                          duration_seconds=1.5, created_at=t0 + timedelta(seconds=2)),
            orm.ProcessingLog(job_id=job_id, stage="transcription", status="failed",
                          error_message="the audio stream does not decode", duration_seconds=0.4,
                          created_at=t0 + timedelta(seconds=3)),
        ])  # fmt: skip
        storage.put_bytes(clip_video or b"\x00" * 64, upload_key)
        return SeededJob(
            job_id, [c.clip_id for c in clips], [s.segment_id for s in segments], clip_video
        )


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@contextmanager
def live_server(
    env: dict[str, str], workdir: Path, *, ready_timeout: float = 120.0
) -> Iterator[LiveServer]:
    """`highlights serve` in a subprocess on a free loopback port (the real CLI entry point)."""
    port = free_port()
    full_env = {**{k: v for k, v in os.environ.items() if k not in _CLEARED}, **env}
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    log_path = workdir / f"server-{port}.log"
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}):\n{server.log()}")
            try:
                if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not start in {ready_timeout:.0f} s:\n{server.log()}"
                )
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
