"""What reading the slides costs a whole pipeline: the same lecture through
`highlights process` with `HIGHLIGHTS_SLIDE_TEXT=off` and with the slides read, back to
back, each in its own database and store.

    uv run python bench/ocr_share.py LECTURE.mp4 [--clips 5] [--pairs 3] [--add]

Prints, for every run, the wall time from the first stage's start to the last log (the
pipeline without Prefect's start-up), the layout and transcription stages' durations,
the OCR summary of the layout stage, and the peak resident memory of the run's largest
process (the CLI, which runs every stage); then OCR's share: the extra wall time of the
run that read the slides against its total, per pair and the median over the pairs.
Pairs alternate which run goes first, so a machine that speeds up or slows down during
the benchmark does not favour one side. The figures go to bench/out/ocr_share.json, where
`bench_pipeline.py` finds them for the same lecture and prints them beside its own;
`--add` adds this run's pairs to those already there (same lecture, same priority). Run
it on an idle machine and say what lecture it was (its length, resolution, layout and
slide count): on a shared machine a single pair moves by more than the 5% it is meant to
show.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def run(lecture: Path, workdir: Path, slide_text: str, clips: int) -> dict:
    workdir.mkdir(parents=True)
    env = {**os.environ, "HIGHLIGHTS_SLIDE_TEXT": slide_text,
           "HIGHLIGHTS_DATABASE_URL": f"sqlite:///{workdir / 'jobs.db'}",
           "HIGHLIGHTS_STORAGE_URL": str(workdir / "store"),
           "HIGHLIGHTS_WORK_DIR": str(workdir / "work")}
    log = workdir / "cli.log"
    with log.open("wb") as out:
        cli = subprocess.Popen([str(Path(sys.executable).parent / "highlights"), "process",
                                str(lecture), "--json", "--clips", str(clips)],
                               env=env, stdout=out, stderr=subprocess.STDOUT)
        # wait4: this run's own peak, not the largest of every child so far
        _, status, usage = os.wait4(cli.pid, 0)
        cli.returncode = os.waitstatus_to_exitcode(status)
    if cli.returncode != 0:
        raise SystemExit(f"highlights process failed:\n{log.read_text()[-2000:]}")
    with sqlite3.connect(workdir / "jobs.db") as db:
        rows = db.execute("SELECT stage, status, duration_seconds, metadata, created_at "
                          "FROM processing_logs ORDER BY created_at").fetchall()
    stamps = [datetime.fromisoformat(r[4]) for r in rows]
    done_rows = {r[0]: r for r in rows if r[1] == "completed"}
    layout_meta = json.loads(done_rows["layout_analysis"][3] or "{}")
    return {
        "slides": slide_text,
        "pipeline": (max(stamps) - min(stamps)).total_seconds(),
        "layout": done_rows["layout_analysis"][2],
        "transcription": done_rows["transcription"][2],
        "ocr": layout_meta.get("slide_text"),
        "peak_mib": usage.ru_maxrss / 1024,
        "cpu": usage.ru_utime + usage.ru_stime,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lecture", type=Path)
    parser.add_argument("--clips", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--add", action="store_true",
                        help="add the pairs to the last measurement of the same lecture")
    args = parser.parse_args()
    pairs: list[dict] = []
    from highlights.low_priority import IDLE_POLICY, NICENESS

    setting = {"lecture": args.lecture.name, "niceness": NICENESS, "idle_class": IDLE_POLICY}
    saved = OUT / "ocr_share.json"
    earlier_pairs: list[dict] = []
    if args.add and saved.exists():
        earlier = json.loads(saved.read_text())
        if all(earlier.get(key) == value for key, value in setting.items()):
            earlier_pairs = earlier["pairs"]
    with tempfile.TemporaryDirectory(prefix="ocr-share-") as scratch:
        for pair in range(len(earlier_pairs), len(earlier_pairs) + args.pairs):
            # numbering and alternation go on from the pairs added to
            order = ("off", "on") if pair % 2 == 0 else ("on", "off")
            runs = {mode: run(args.lecture, Path(scratch) / f"{pair}-{mode}", mode, args.clips)
                    for mode in order}
            for mode in order:
                r = runs[mode]
                print(f"pair {pair + 1} slides {'read' if mode == 'on' else 'not read':8s} "
                      f"pipeline {r['pipeline']:6.1f} s  layout {r['layout']:6.1f} s  "
                      f"transcription {r['transcription']:6.1f} s  CPU {r['cpu']:6.1f} s  "
                      f"largest process {r['peak_mib']:5.0f} MiB", flush=True)
            ocr = runs["on"]["ocr"] or {}
            extra = runs["on"]["pipeline"] - runs["off"]["pipeline"]
            share = extra / runs["on"]["pipeline"]
            pairs.append({"first": order[0], "off": runs["off"]["pipeline"], "on": runs["on"]["pipeline"],
                          "transcription_off": runs["off"]["transcription"],
                          "transcription_on": runs["on"]["transcription"],
                          "ocr_cpu_seconds": ocr.get("ocr_cpu_seconds"),
                          "picture_cpu_seconds": ocr.get("picture_cpu_seconds"),
                          "share": share})
            print(f"pair {pair + 1} OCR: {ocr.get('ocr_reads')} reads of {ocr.get('slides_read')} "
                  f"slide spans ({ocr.get('part_reads')} part reads, {ocr.get('key_frame_grabs')} "
                  f"at key frames), {ocr.get('ocr_seconds')} s in the layout stage; extra wall "
                  f"{extra:+.1f} s = {100 * share:.1f}%, extra CPU "
                  f"{runs['on']['cpu'] - runs['off']['cpu']:+.1f} s", flush=True)
    pairs = [*earlier_pairs, *pairs]
    shares = [pair["share"] for pair in pairs]
    print(f"OCR's share of the pipeline: median {100 * statistics.median(shares):.1f}% over "
          f"{len(shares)} pair(s) ({', '.join(f'{100 * s:.1f}%' for s in shares)}; target <= 5%)")
    OUT.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps({
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), **setting,
        "pairs": pairs, "median": statistics.median(shares), "largest": max(shares),
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
