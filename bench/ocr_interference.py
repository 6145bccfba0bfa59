"""How much a slide reader beside the transcriber holds the transcriber up, per CPU-second
the reader spends: the figure that turns slide reading's CPU time into its cost in wall
time, measured without the noise of whole-pipeline pairs.

    uv run python bench/ocr_interference.py [--minutes 10] [--pairs 3] [--niceness 10]
                                            [--no-idle-class]

Each run is a fresh process that transcribes the first `--minutes` of the benchmark
lecture's speech (the pipeline's local transcriber, model loaded as the stage loads it),
alone or with one OCR reader beside it, set up as the layout stage sets up its first
reader (its own engine, one thread, niced by `--niceness` and in Linux's idle scheduling
class unless `--no-idle-class`), reading distinct 720p
side-by-side slide crops drawn by the lecture generator, one after another, until the
transcriber is done. Runs alternate which goes first, so a machine that speeds up or
slows down does not favour one side.

Prints per pair the transcriber's wall time alone and beside the reader, the delay, the
reader's CPU time, and the delay per reader CPU-second; then the median, and what it
makes of the slide reading of the last `bench_pipeline.py` run (bench/out/pipeline.json),
whose CPU time alone bounds its share of the wall from above.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LECTURE = OUT / "lecture-60min-dense.mp4"

RUN = """
import json, sys, threading, time

import highlights.low_priority as low_priority
low_priority.NICENESS = int(sys.argv[3])
low_priority.IDLE_POLICY = sys.argv[4] == "idle"
from highlights.low_priority import lower_this_thread
from highlights.ocr import OcrEngine
from highlights.settings import load_settings
from highlights.transcription import get_transcriber
from lecturesynth.scripts import TOPICS
from lecturesynth.slides import render_slide

with_reader = sys.argv[2] == "reader"
pictures = [render_slide(slide, len(slide.bullets), topic.title, number, index, (894, 720))
            for index, topic in enumerate(TOPICS)
            for number, slide in enumerate(topic.slides, start=1)]
done = threading.Event()
reader = {"cpu": 0.0, "reads": 0}

def read() -> None:
    lower_this_thread()
    began = time.thread_time()
    engine = OcrEngine.for_recording()
    while not done.is_set():
        engine.read(pictures[reader["reads"] % len(pictures)])
        reader["reads"] += 1
    reader["cpu"] = time.thread_time() - began

transcriber = get_transcriber(load_settings())
thread = threading.Thread(target=read, daemon=True)
began = time.perf_counter()
if with_reader:
    thread.start()
transcriber.transcribe(sys.argv[1])
wall = time.perf_counter() - began
done.set()
if with_reader:
    thread.join()
print(json.dumps({"wall": wall, "reader_cpu": reader["cpu"], "reads": reader["reads"],
                  "pictures": len(pictures)}))
"""


def speech(minutes: float, scratch: Path) -> Path:
    from highlights.audio import extract_audio
    from highlights.ffmpeg import ffmpeg_exe

    whole = scratch / "speech.wav"
    extract_audio(LECTURE, whole)
    part = scratch / f"speech-{minutes:g}min.wav"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-i", str(whole), "-t", str(minutes * 60), "-c", "copy", str(part)],
                   check=True)
    return part


def run(wav: Path, mode: str, niceness: int, idle_class: bool) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", RUN, str(wav), mode, str(niceness),
                           "idle" if idle_class else "other"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--niceness", type=int, default=None,
                        help="the reader's niceness (default: the pipeline's)")
    parser.add_argument("--no-idle-class", action="store_true",
                        help="keep the reader in the normal scheduling class")
    args = parser.parse_args()
    from highlights.low_priority import IDLE_POLICY, NICENESS

    niceness = NICENESS if args.niceness is None else args.niceness
    idle_class = IDLE_POLICY and not args.no_idle_class
    if not LECTURE.exists():
        raise SystemExit(f"{LECTURE} is missing: run bench/bench_pipeline.py once to make it")
    with tempfile.TemporaryDirectory(prefix="ocr-interference-") as scratch:
        wav = speech(args.minutes, Path(scratch))
        print(f"Material: the first {args.minutes:g} min of {LECTURE.name} (152 words a "
              f"minute), transcribed by the local transcriber; beside it one OCR reader "
              f"niced by {niceness}{' in the idle scheduling class' if idle_class else ''} "
              f"reading 894x720 slide crops of the lecture generator.")
        rates = []
        for pair in range(args.pairs):
            order = ("alone", "reader") if pair % 2 == 0 else ("reader", "alone")
            results = {mode: run(wav, mode, niceness, idle_class) for mode in order}
            alone, beside = results["alone"], results["reader"]
            delay = beside["wall"] - alone["wall"]
            rate = delay / max(beside["reader_cpu"], 1e-9)
            rates.append(rate)
            print(f"pair {pair + 1} ({order[0]} first): alone {alone['wall']:.1f} s, beside "
                  f"the reader {beside['wall']:.1f} s, delay {delay:+.1f} s; reader "
                  f"{beside['reader_cpu']:.1f} CPU-s ({beside['reads']} reads): "
                  f"{rate:+.2f} s of delay per reader CPU-second")
    median = statistics.median(rates)
    print(f"median: {median:+.2f} s of the transcriber's wall time per CPU-second of reading "
          f"(pairs from {min(rates):+.2f} to {max(rates):+.2f})")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ocr_interference.json").write_text(json.dumps(
        {"minutes": args.minutes, "niceness": niceness, "idle_class": idle_class,
         "rates": rates, "median": median}))
    results_json = OUT / "pipeline.json"
    if results_json.exists():
        hour = json.loads(results_json.read_text()).get("60", {})
        reading = hour.get("slide_reading") or {}
        total = hour.get("pipeline", {}).get("total_wall")
        if reading and total:
            cpu = reading["ocr_cpu"] + reading["picture_cpu"]
            print(f"the last one-hour benchmark run ({hour.get('measured_at')}): slide "
                  f"reading {cpu:.1f} CPU-s, {cpu / total:.1%} of its {total:.0f} s wall "
                  f"by CPU time; at the median {max(median, 0.0):.2f} s per CPU-second: "
                  f"{max(median, 0.0) * cpu / total:.1%}, at the largest pair's "
                  f"{max(max(rates), 0.0):.2f}: {max(max(rates), 0.0) * cpu / total:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
