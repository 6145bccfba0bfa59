"""Benchmark the analysis passes against a bare ffmpeg decode of the same file.

    uv run python bench/bench_analysis.py LECTURE.mp4 [--repeat 3] [--work DIR]

Side by side, in one run:

- audio: `extract_audio` (PyAV decode, resample to 16 kHz mono, WAV written by pts)
  plus audio silence detection, against `ffmpeg -vn -i IN -f null -`;
- visual: `visual_pass` (2 samples a second, 256 px gray + 640 px motion maps + faces),
  against `ffmpeg -an -i IN -vf fps=2,scale=256:-2 -f null -`;
- then, for information, blank-screen detection and layout + slide changes on the
  stored samples (no decoding).

Every measured step runs in a fresh Python process, so its peak RSS is its own (the
pipeline runs stages as separate tasks too). Wall time on a shared machine is noisy:
with --repeat the median is reported, and CPU time (user + sys, including ffmpeg's
threads) is shown beside it. Targets: each pass within 1.25x of its bare decode,
peak memory under 500 MB. The last line is JSON.
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

# Runs one step in a fresh interpreter and prints its own wall/CPU/peak-RSS figures.
_RUNNER = r"""
import json, resource, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
step, src, work = sys.argv[2], sys.argv[3], sys.argv[4]
from pathlib import Path
work = Path(work)

def bare(args):
    from highlights.ffmpeg import ffmpeg_exe
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *args],
                   check=True)

imports_done = time.perf_counter()
if step not in ("bare_audio", "bare_visual"):
    # import before the clock starts: a long-running worker has them loaded already
    import numpy, av, cv2, scenedetect  # noqa: F401
    from highlights import audio, silence, visual, layout  # noqa: F401
r0 = resource.getrusage(resource.RUSAGE_SELF)
c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
info = {}
if step == "bare_audio":
    bare(["-vn", "-i", src, "-f", "null", "-"])
elif step == "bare_visual":
    bare(["-an", "-i", src, "-vf", "fps=2,scale=256:-2", "-f", "null", "-"])
elif step == "audio":
    from highlights.audio import extract_audio, open_pcm16
    from highlights.audio_levels import measure_audio, quiet_stretches
    a = extract_audio(src, work / "audio.wav")
    t_extract = time.perf_counter() - t0
    samples, rate = open_pcm16(a.path)
    levels = measure_audio(samples, rate)
    pauses = quiet_stretches(levels, 2.0)
    info = {"extract_s": round(t_extract, 2), "pauses": len(pauses),
            "audio_s": round(a.duration, 1)}
elif step == "visual":
    from highlights.visual import visual_pass
    v = visual_pass(src, work / "visual")
    info = {"samples": v.count, "decoded_frames": v.meta["decoded_frames"]}
elif step == "downstream":
    from highlights.layout import analyze_layout
    from highlights.silence import detect_blank_screen
    from highlights.visual import VisualSamples
    v = VisualSamples.load(work / "visual")
    t1 = time.perf_counter()
    blank = detect_blank_screen(v, 2.0)
    t2 = time.perf_counter()
    lay, changes = analyze_layout(v)
    t3 = time.perf_counter()
    info = {"blank_s": round(t2 - t1, 2), "layout_s": round(t3 - t2, 2),
            "layout_type": lay.layout_type, "slide_changes": len(changes),
            "blank_regions": len(blank)}
wall = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
       + c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": r1.ru_maxrss / 1024,
                  "child_rss_mb": c1.ru_maxrss / 1024, **info}))
"""


def run_step(step: str, src: Path, work: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(ROOT), step, str(src), str(work)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("lecture", type=Path, help="a lecture video (e.g. 60 min, 720p)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per step; the median is reported"
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="scratch folder (default: a temp dir)"
    )
    args = parser.parse_args()
    src = args.lecture.resolve()
    if not src.is_file():
        raise SystemExit(f"{src}: no such file")

    sys.path.insert(0, str(ROOT))
    from highlights.probe import probe_media

    probe = probe_media(src)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"{src.name}: {probe.duration / 60:.1f} min, {probe.width}x{probe.height} @ {probe.fps} fps, "
        f"{probe.video_codec}/{probe.audio_codec}, {src.stat().st_size / 2**20:.0f} MB"
    )

    runs: dict[str, list[dict]] = {k: [] for k in ("bare_audio", "audio", "bare_visual", "visual")}
    for i in range(args.repeat):
        # interleaved, so background load hits both sides of a comparison alike
        for step in runs:
            result = run_step(step, src, work)
            runs[step].append(result)
            print(
                f"  run {i + 1} {step:<12} wall {result['wall']:7.2f} s  cpu {result['cpu']:7.2f} s",
                flush=True,
            )
    downstream = run_step("downstream", src, work)

    def fig(step: str) -> dict:
        rs = runs[step]
        rss = max(max(r["rss_mb"], r["child_rss_mb"]) for r in rs)
        return {
            "wall_s": round(median_of(rs, "wall"), 2),
            "cpu_s": round(median_of(rs, "cpu"), 2),
            "peak_rss_mb": round(rss, 1),
        }

    figures = {k: fig(k) for k in runs}
    audio_ratio = figures["audio"]["wall_s"] / figures["bare_audio"]["wall_s"]
    visual_ratio = figures["visual"]["wall_s"] / figures["bare_visual"]["wall_s"]
    audio_cpu_ratio = figures["audio"]["cpu_s"] / figures["bare_audio"]["cpu_s"]
    visual_cpu_ratio = figures["visual"]["cpu_s"] / figures["bare_visual"]["cpu_s"]
    peak = max(
        figures["audio"]["peak_rss_mb"], figures["visual"]["peak_rss_mb"], downstream["rss_mb"]
    )

    print()
    print(
        f"{'pass':<34}{'ours wall':>10}{'bare wall':>10}{'ratio':>7}{'ours cpu':>10}{'bare cpu':>10}{'ratio':>7}{'peak MB':>9}"
    )
    print(
        f"{'audio extraction + silence':<34}{figures['audio']['wall_s']:>10.2f}{figures['bare_audio']['wall_s']:>10.2f}"
        f"{audio_ratio:>7.2f}{figures['audio']['cpu_s']:>10.2f}{figures['bare_audio']['cpu_s']:>10.2f}"
        f"{audio_cpu_ratio:>7.2f}{figures['audio']['peak_rss_mb']:>9.0f}"
    )
    print(
        f"{'visual pass (2 fps, 256 px)':<34}{figures['visual']['wall_s']:>10.2f}{figures['bare_visual']['wall_s']:>10.2f}"
        f"{visual_ratio:>7.2f}{figures['visual']['cpu_s']:>10.2f}{figures['bare_visual']['cpu_s']:>10.2f}"
        f"{visual_cpu_ratio:>7.2f}{figures['visual']['peak_rss_mb']:>9.0f}"
    )
    print(
        f"{'blank screen + layout + slides':<34}{downstream['wall']:>10.2f}{'':>10}{'':>7}{downstream['cpu']:>10.2f}"
        f"{'':>10}{'':>7}{downstream['rss_mb']:>9.0f}"
    )
    print(
        f"\nextraction alone {runs['audio'][-1]['extract_s']} s; {runs['audio'][-1]['pauses']} pauses; "
        f"{runs['visual'][-1]['samples']} samples from {runs['visual'][-1]['decoded_frames']} decoded frames; "
        f"layout {downstream['layout_type']}, {downstream['slide_changes']} slide changes, "
        f"{downstream['blank_regions']} blank stretches"
    )
    ok_audio, ok_visual, ok_mem = audio_ratio <= 1.25, visual_ratio <= 1.25, peak < 500
    print(
        f"targets: audio <= 1.25x {'OK' if ok_audio else 'MISSED'}, visual <= 1.25x "
        f"{'OK' if ok_visual else 'MISSED'}, peak < 500 MB {'OK' if ok_mem else 'MISSED'} ({peak:.0f} MB)"
    )
    print(json.dumps({
        "lecture": src.name, "minutes": round(probe.duration / 60, 2),
        "resolution": f"{probe.width}x{probe.height}", "repeat": args.repeat,
        **{f"{k}_{m}": v for k, f in figures.items() for m, v in f.items()},
        "audio_ratio": round(audio_ratio, 3), "visual_ratio": round(visual_ratio, 3),
        "audio_cpu_ratio": round(audio_cpu_ratio, 3), "visual_cpu_ratio": round(visual_cpu_ratio, 3),
        "downstream_wall_s": round(downstream["wall"], 2), "downstream_rss_mb": round(downstream["rss_mb"], 1),
        "peak_rss_mb": round(peak, 1), "targets_met": ok_audio and ok_visual and ok_mem,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
