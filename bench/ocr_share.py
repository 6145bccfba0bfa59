"""What reading the slides costs a whole pipeline: the same lecture through
`highlights process` with `HIGHLIGHTS_SLIDE_TEXT=off` and then with the slides read,
back to back, each in its own database and store.

    uv run python bench/ocr_share.py LECTURE.mp4 [--clips 10]

Prints, for both runs, the wall time from the first stage's start to the last log (the
pipeline without Prefect's start-up), the layout and transcription stages' durations,
the OCR summary of the layout stage, and the peak resident memory of the largest
process of the run (the CLI, which runs every stage); then OCR's share: the extra wall
time of the run that read the slides, against its total. Run it on an idle machine and
say what lecture it was (its length, resolution, layout and slide count).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path


def run(lecture: Path, workdir: Path, slide_text: str, clips: int) -> dict:
    workdir.mkdir(parents=True)
    env = {**os.environ, "HIGHLIGHTS_SLIDE_TEXT": slide_text,
           "HIGHLIGHTS_DATABASE_URL": f"sqlite:///{workdir / 'jobs.db'}",
           "HIGHLIGHTS_STORAGE_URL": str(workdir / "store"),
           "HIGHLIGHTS_WORK_DIR": str(workdir / "work")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([str(Path(sys.executable).parent / "highlights"), "process", str(lecture),
                           "--json", "--clips", str(clips)],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"highlights process failed: {done.stdout[-500:]} {done.stderr[-1500:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with sqlite3.connect(workdir / "jobs.db") as db:
        rows = db.execute("SELECT stage, status, duration_seconds, metadata, created_at "
                          "FROM processing_logs ORDER BY created_at").fetchall()
    stamps = [datetime.fromisoformat(r[4]) for r in rows]
    done_rows = {r[0]: r for r in rows if r[1] == "completed"}
    layout_meta = json.loads(done_rows["layout_analysis"][3] or "{}")
    return {
        "pipeline": (max(stamps) - min(stamps)).total_seconds(),
        "layout": done_rows["layout_analysis"][2],
        "transcription": done_rows["transcription"][2],
        "ocr": layout_meta.get("slide_text"),
        # ru_maxrss only grows: a figure equal to the earlier run's says "no higher"
        "peak_mib": max(peak_kib, before) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lecture", type=Path)
    parser.add_argument("--clips", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocr-share-") as scratch:
        without = run(args.lecture, Path(scratch) / "off", "off", args.clips)
        with_ocr = run(args.lecture, Path(scratch) / "on", "on", args.clips)
    for name, r in (("slides not read", without), ("slides read", with_ocr)):
        print(f"{name:16s} pipeline {r['pipeline']:6.1f} s  layout {r['layout']:6.1f} s  "
              f"transcription {r['transcription']:6.1f} s  largest process {r['peak_mib']:5.0f} MiB")
    ocr = with_ocr["ocr"] or {}
    extra = with_ocr["pipeline"] - without["pipeline"]
    print(f"OCR: {ocr.get('ocr_reads')} reads of {ocr.get('slides_read')} slide spans, "
          f"{ocr.get('ocr_seconds')} s in the layout stage")
    print(f"OCR's share of the pipeline: {extra:+.1f} s = {100 * extra / with_ocr['pipeline']:.1f}% "
          f"(target <= 5%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
