"""`highlights process FILE --json` on bad and awkward inputs: complete, or fail cleanly.

Runs the real command (typer) in this process, so Prefect's ephemeral server is started
once for the module. Every run must end with a JSON document, a job row that says what
happened, and, for failures, the stage and the reason in `jobs.error_message` and in a
`failed` processing_logs row.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from db.engine import get_engine, session_scope
from db.models import ProcessingLog
from highlights.settings import load_settings
from tests.media_samples import SHARED_MEDIA

LECTURE = Path(__file__).parent / "fixtures" / "lectures" / "screen.mp4"


@pytest.fixture
def cli_env(local_job_env: Path) -> Path:
    return local_job_env


def process(path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["process", str(path), "--json", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout
    return result.exit_code, json.loads(result.stdout)


def failed_logs(job_id: str) -> list[ProcessingLog]:
    with session_scope(get_engine(load_settings())) as session:
        return list(session.scalars(select(ProcessingLog).where(
            ProcessingLog.job_id == job_id, ProcessingLog.status == "failed")))


def assert_failed_at_upload(code: int, out: dict[str, Any], *phrases: str) -> None:
    assert code == 1, out
    assert out["status"] == "failed"
    assert out["error_message"].startswith("uploading: "), out["error_message"]
    for phrase in phrases:
        assert phrase in out["error_message"].lower(), out["error_message"]
    logs = failed_logs(out["job_id"])
    assert [g.stage for g in logs] == ["uploading"]
    assert logs[0].metadata_["attempt"] == 1  # bad input is not retried
    # Nothing half-written: no original stored, no child rows beyond the log.
    assert out["row_counts"] == {"transcripts": 0, "silence_regions": 0, "content_segments": 0,
                                 "clips": 0, "processing_logs": 2, "layout_analysis": 0}
    assert not (Path(load_settings().storage_url) / "uploads" / out["job_id"]).exists()


def test_not_a_media_file(cli_env: Path) -> None:
    notes = cli_env / "notes.mp4"
    notes.write_text("These are my lecture notes, not a video.\n" * 50)
    assert_failed_at_upload(*process(notes), "not")


def test_empty_file(cli_env: Path) -> None:
    empty = cli_env / "empty.mp4"
    empty.write_bytes(b"")
    assert_failed_at_upload(*process(empty), "empty")


def test_truncated_file(cli_env: Path) -> None:
    truncated = cli_env / "truncated.mp4"
    data = LECTURE.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    code, out = process(truncated)
    assert_failed_at_upload(code, out)
    assert any(word in out["error_message"].lower() for word in ("truncated", "incomplete", "corrupt", "damaged"))


def test_over_size_limit(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIGHLIGHTS_MAX_UPLOAD_BYTES", "100000")
    assert_failed_at_upload(*process(LECTURE), "highlights_max_upload_bytes")


def test_over_duration_limit(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIGHLIGHTS_MAX_DURATION_SECONDS", "60")
    assert_failed_at_upload(*process(LECTURE), "highlights_max_duration_seconds")


def test_missing_file_is_a_usage_error(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["process", str(cli_env / "nope.mp4"), "--json"])
    assert result.exit_code == 2
    assert "file not found" in json.loads(result.stdout)["error"]


def test_bad_setting_names_the_variable(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIGHLIGHTS_TRANSCRIBER", "whisperx")
    result = CliRunner().invoke(app, ["process", str(LECTURE), "--json"])
    assert result.exit_code == 2
    assert "HIGHLIGHTS_TRANSCRIBER" in json.loads(result.stdout)["error"]


@pytest.mark.parametrize("name", sorted(p.name for p in SHARED_MEDIA.glob("*")) if SHARED_MEDIA.exists() else [])
def test_awkward_real_media(cli_env: Path, name: str) -> None:
    source = cli_env / name
    shutil.copy(SHARED_MEDIA / name, source)
    code, out = process(source, "--min-len", "5")
    if out["status"] == "completed":
        assert code == 0
        assert out["progress_percent"] == 100.0
        assert out["row_counts"]["processing_logs"] >= 16
        for clip in out["clips"]:
            assert Path(clip["location"]).stat().st_size > 0
    else:
        assert code == 1
        stage = out["error_message"].split(":", 1)[0]
        assert stage in {"uploading", "silence_detection", "transcription", "layout_analysis",
                         "content_analysis", "segmentation", "compilation"}
        assert len(out["error_message"]) > len(stage) + 10
        assert "Traceback" not in out["error_message"]
        assert [g.stage for g in failed_logs(out["job_id"]) if g.metadata_.get("final")] == [stage]


def test_bad_input_is_refused_quickly_in_one_line_without_traceback(cli_env: Path) -> None:
    """The real command in its own process: no Prefect server is started for a file that
    cannot be processed, and the user reads one line that says why."""
    import os
    import subprocess
    import sys
    import time

    empty = cli_env / "empty.mp4"
    empty.write_bytes(b"")
    command = Path(sys.executable).parent / "highlights"
    began = time.monotonic()
    done = subprocess.run([str(command), "process", str(empty)], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)
    elapsed = time.monotonic() - began
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Traceback" not in output and "prefect" not in output.lower(), output
    assert elapsed < 8.0, elapsed  # process start-up and imports included; Prefect takes ~15 s
    reasons = [line for line in output.splitlines() if "empty" in line]
    assert len(reasons) == 1 and "failed: uploading: empty.mp4 is empty" in reasons[0], output


def test_orchestrator_that_cannot_start_fails_the_job_with_the_reason(
        cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prefect's API server cannot reach its database: the job fails before its first
    # stage, and the jobs row, the timeline and the one line on the terminal say why.
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL",
                       "postgresql+asyncpg://nobody:secret@127.0.0.1:9/prefect")
    code, out = process(LECTURE)
    assert code == 1 and out["status"] == "failed"
    assert out["error_message"].startswith("uploading: the temporary Prefect API exited"), out
    logs = failed_logs(out["job_id"])
    assert [(g.stage, g.agent_name, g.metadata_["error_type"]) for g in logs] == [
        ("uploading", "prefect", "ApiStartError")]
    assert logs[0].error_message in out["error_message"]
