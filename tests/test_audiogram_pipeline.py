"""Audiogram clips through the whole pipeline (slow: each run takes tens of seconds).

The sound is the fixture lecture's (real synthesized speech with known topics): once as
an audio-only M4A through `highlights process --format vertical`, once under a black
picture (a screen recording that never showed anything) through the flow. Both must
complete with clip rows filled like any other job's, and say why clips are audiograms.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from db.engine import get_engine, session_scope
from db.models import Clip, ProcessingLog
from highlights.settings import load_settings
from highlights.storage import open_storage
from tests.media_samples import ffmpeg

LECTURE = Path(__file__).parent / "fixtures" / "lectures" / "screen.mp4"
pytestmark = pytest.mark.slow


@pytest.fixture
def env(local_job_env: Path) -> Path:
    return local_job_env


def check_job(job_id: str, size: tuple[int, int], reason: str) -> list[Clip]:
    """Clip rows complete, files stored and of the expected shape, the reason noted."""
    settings = load_settings()
    storage = open_storage(settings)
    with session_scope(get_engine(settings)) as session:
        clips = list(session.scalars(select(Clip).where(Clip.job_id == job_id)
                                     .order_by(Clip.clip_order)))  # fmt: skip
        log = session.scalars(select(ProcessingLog).where(
            ProcessingLog.job_id == job_id, ProcessingLog.stage == "compilation",
            ProcessingLog.status == "completed")).one()  # fmt: skip
    assert clips, "no clips"
    assert log.metadata_["picture"] == "audiogram" and reason in log.metadata_["message"]
    assert any(reason in n for n in log.metadata_["notes"])
    for clip in clips:
        for key in (clip.s3_key, clip.thumbnail_s3_key, clip.subtitle_s3_key,
                    clip.metadata_["vtt_s3_key"]):  # fmt: skip
            assert key and storage.exists(key), key
        assert clip.duration == pytest.approx(clip.end_time - clip.start_time, abs=0.01)
        assert clip.metadata_["picture"] == "audiogram"
        assert any(reason in n for n in clip.metadata_["notes"])
        with av.open(io.BytesIO(storage.read_bytes(clip.s3_key))) as container:
            video = container.streams.video[0]
            assert video.codec_context.name == "h264"
            assert (video.codec_context.width, video.codec_context.height) == size
            assert container.streams.audio[0].codec_context.name == "aac"
            assert abs(container.duration / av.time_base - clip.duration) <= 0.2
    assert storage.exists(f"results/{job_id}/chapters.txt")
    return clips


def test_audio_only_lecture_vertical_from_the_command_line(env: Path) -> None:
    audio = env / "lecture.m4a"
    ffmpeg("-y", "-i", str(LECTURE), "-vn", "-c:a", "aac", str(audio))
    result = CliRunner().invoke(app, ["process", str(audio), "--format", "vertical",
                                      "--clips", "2", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stdout
    out = json.loads(result.stdout)
    assert out["status"] == "completed"
    clips = check_job(out["job_id"], (1080, 1920), "no video stream")
    assert len(out["clips"]) == len(clips)
    assert all(c.metadata_["framing"] == "audiogram_vertical" for c in clips)


def test_black_screen_recording_gets_audiograms(env: Path) -> None:
    from flows.jobs import create_job
    from flows.lecture import process_lecture

    black = env / "black-screen.mp4"
    ffmpeg("-y", "-f", "lavfi", "-i", "color=c=black:s=640x360:r=10", "-i", str(LECTURE),
           "-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "copy", str(black))  # fmt: skip
    settings = load_settings()
    from db.migrate import init_db

    init_db(settings.database_url)
    job_id = create_job(settings, str(black), {"clips": 2})
    state = process_lecture(job_id=job_id, resume=False, return_state=True)
    assert state.is_completed(), state.message
    check_job(job_id, (1280, 720), "blank throughout")
