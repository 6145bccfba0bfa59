"""Clip rendering benchmark.

1. Overhead: one clip through `render_clips` (no thumbnail, no subtitles) against the
   bare ffmpeg command with the same encoder settings. Target: at most 1.1x.
2. Throughput: the wall time for N clips of S seconds spread over the lecture, with
   thumbnails, rendered in parallel as the pipeline does.

Usage:
    uv run python bench/bench_render.py LECTURE.mp4 [--clips 5] [--seconds 60]
        [--format original|vertical] [--preset veryfast] [--crf 20] [--repeat 2]

No 60-minute lecture at hand? Loop a short one without re-encoding:
    ffmpeg -stream_loop -1 -i tests/fixtures/lectures/sbs.mp4 -t 3600 -c copy /tmp/long.mp4
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from highlights.ffmpeg import ffmpeg_exe, quiet_args  # noqa: E402
from highlights.render import RenderOptions, render_clips  # noqa: E402
from highlights.render.clip import h264_aac_args  # noqa: E402
from highlights.render.source import probe_source  # noqa: E402
from highlights.types import ClipPlan, LayoutResult, Region  # noqa: E402


def children_cpu() -> float:
    """CPU seconds used by finished child processes (the ffmpeg runs): unlike wall time,
    barely moved by other work on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare_ffmpeg(
    source: Path,
    start: float,
    seconds: float,
    options: RenderOptions,
    fps: float,
    has_audio: bool,
    out: Path,
) -> float:
    gop = max(1, round(fps * options.keyframe_seconds))
    cmd = [
        ffmpeg_exe(),
        *quiet_args("error"),
        "-ss",
        f"{start:.3f}",
        "-i",
        str(source),
        *h264_aac_args(options, duration=seconds, gop=gop, threads=0, channels=2),
    ]
    cmd += [*([] if has_audio else ["-an"]), "-movflags", "+faststart", str(out)]
    began = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--clips", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--format", choices=("original", "vertical"), default="original")
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--crf", type=int, default=20)
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of the overhead test (min kept)"
    )
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()

    source = probe_source(args.source)
    print(
        f"source: {args.source} {source.width}x{source.height} {source.fps:g} fps "
        f"{source.duration / 60:.1f} min, audio={source.has_audio}; cores={os.cpu_count()}"
    )
    # A side-by-side layout for vertical runs: screen left 70 %, camera right 30 %.
    layout = LayoutResult(
        Region(0, 0, 0.7, 1), Region(0.7, 0, 0.3, 1), 0.7, "side_by_side", 1.0, None
    )
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        work = Path(tmp)
        if not args.skip_overhead and args.format == "original":
            plain = RenderOptions(
                format="original",
                preset=args.preset,
                crf=args.crf,
                write_thumbnail=False,
                write_subtitles=False,
                max_workers=1,
            )
            start = round(source.duration * 0.4, 3)
            seconds = min(args.seconds, source.duration - start)
            ours, bare, ours_cpu, bare_cpu = [], [], [], []
            for i in range(args.repeat):  # interleaved, so load changes hit both alike
                plan = ClipPlan(start, start + seconds, 0, "bench", "bench", 1.0, 1)
                cpu, began = children_cpu(), time.perf_counter()
                render_clips(args.source, [plan], None, None, plain, work / f"ours{i}")
                ours.append(time.perf_counter() - began)
                ours_cpu.append(children_cpu() - cpu)
                cpu = children_cpu()
                bare.append(
                    bare_ffmpeg(
                        args.source,
                        start,
                        seconds,
                        plain,
                        source.fps,
                        source.has_audio,
                        work / f"bare{i}.mp4",
                    )
                )
                bare_cpu.append(children_cpu() - cpu)
            ratio = min(ours) / min(bare)
            cpu_ratio = min(ours_cpu) / min(bare_cpu)
            print(
                f"overhead: one {seconds:.0f} s clip, preset {args.preset} crf {args.crf}: "
                f"wall render_clips {min(ours):.2f} s vs bare ffmpeg {min(bare):.2f} s "
                f"= {ratio:.3f}x; ffmpeg CPU {min(ours_cpu):.2f} s vs {min(bare_cpu):.2f} s "
                f"= {cpu_ratio:.3f}x (target <= 1.1: {'OK' if min(ratio, cpu_ratio) <= 1.1 else 'OVER'})"
            )

        options = RenderOptions(format=args.format, preset=args.preset, crf=args.crf)
        step = source.duration / args.clips
        plans = []
        for k in range(args.clips):
            start = round(k * step + max(0.0, (step - args.seconds) / 2), 3)
            end = min(source.duration, start + args.seconds)
            plans.append(ClipPlan(start, end, k, f"clip {k + 1}", "bench", 1.0, k + 1))
        cpu, began = children_cpu(), time.perf_counter()
        clips = render_clips(args.source, plans, None, layout, options, work / "batch")
        wall = time.perf_counter() - began
        cpu = children_cpu() - cpu
        total = sum(p.duration for p in plans)
        sizes = sum(c.metadata["file_size"] for c in clips) / 1e6
        print(
            f"batch: {len(clips)} clips x {args.seconds:.0f} s, format {args.format}, "
            f"preset {args.preset}: wall {wall:.1f} s ({wall / len(clips):.1f} s per clip, "
            f"{total / wall:.2f}x realtime), ffmpeg CPU {cpu:.1f} s, {sizes:.1f} MB"
        )
        for c in clips:
            m = c.metadata
            print(
                f"  clip {c.plan.rank}: {m['width']}x{m['height']} {m['duration']:.2f} s "
                f"render {m['render_seconds']:.1f} s (encode {m['encode_seconds']:.1f} s) "
                f"{m['file_size'] / 1e6:.1f} MB"
            )


if __name__ == "__main__":
    main()
