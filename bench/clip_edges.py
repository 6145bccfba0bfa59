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


def main() -> int:
    """`uv run python bench/clip_edges.py LECTURE.mp4 [--min 20 --max 40]`: process a
    generated lecture (its truth JSON beside it) and print every clip edge's error."""
    import argparse
    import statistics
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("lecture", type=Path)
    parser.add_argument("--min", type=float, default=20.0, dest="min_len")
    parser.add_argument("--max", type=float, default=40.0, dest="max_len")
    parser.add_argument("--clips", type=int, default=5)
    args = parser.parse_args()
    truth = json.loads(args.lecture.with_suffix(".json").read_text())
    with tempfile.TemporaryDirectory(prefix="clip-edges-") as scratch:
        result = process(args.lecture, Path(scratch), args.min_len, args.max_len, args.clips)
    errors = edge_errors(result["clips"], truth)
    words = sum(len(s["text"].split()) for s in truth["speech"])
    print(f"{args.lecture.name}: {truth['width']}x{truth['height']}, {truth['layout']['layout_type']}, "
          f"{truth['duration'] / 60:.1f} min, {words / (truth['duration'] / 60):.0f} words/min, "
          f"clips {args.min_len:g}-{args.max_len:g} s")
    for e in errors:
        print(f"  {e.title[:36]:36s} {e.start:8.2f}-{e.end:8.2f}  start {e.start_error:.2f} s  "
              f"end {e.end_error:.2f} s")
    if errors:
        worst = max(max(e.start_error, e.end_error) for e in errors)
        median = statistics.median([x for e in errors for x in (e.start_error, e.end_error)])
        print(f"  worst edge {worst:.2f} s, median {median:.2f} s (target: every edge <= 0.30 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
