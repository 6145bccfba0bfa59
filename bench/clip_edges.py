"""Clip edges against the sentence truth of a generated lecture (shared by the benchmark
and the end-to-end test).

An edge is good when it lies within `tolerance` seconds of a sentence border of the
generator's truth: a clip's start near a sentence's first word, its end near a
sentence's last word. The pipeline's own transcript plays no part in the check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EdgeError:
    title: str
    start: float
    end: float
    start_error: float  # seconds to the nearest true sentence start
    end_error: float  # seconds to the nearest true sentence end


def edge_errors(clips: list[dict], truth: dict) -> list[EdgeError]:
    starts = [s["start"] for s in truth["speech"]]
    ends = [s["end"] for s in truth["speech"]]
    return [
        EdgeError(
            c["title"], c["start_time"], c["end_time"],
            min(abs(c["start_time"] - t) for t in starts),
            min(abs(c["end_time"] - t) for t in ends),
        )
        for c in clips
    ]


def process(video: Path, workdir: Path, min_len: float, max_len: float, clips: int = 5) -> dict:
    """`highlights process VIDEO --json` as a user runs it, in its own database and store."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HIGHLIGHTS_DATABASE_URL": f"sqlite:///{workdir / 'jobs.db'}",
        "HIGHLIGHTS_STORAGE_URL": str(workdir / "store"),
        "HIGHLIGHTS_WORK_DIR": str(workdir / "work"),
        "HIGHLIGHTS_CLIP_MIN_SECONDS": f"{min_len:g}",
        "HIGHLIGHTS_CLIP_MAX_SECONDS": f"{max_len:g}",
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "highlights"), "process", str(video), "--json",
         "--clips", str(clips)],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"highlights process failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)
