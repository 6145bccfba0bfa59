"""Audiogram render cost against a normal clip render of the same length.

The same lecture is rendered twice per format: its video cut as usual, and its sound
alone (the audio track copied into an M4A, no re-encode) as audiograms. Same plans,
same encoder settings, thumbnails included, one clip at a time (max_workers=1) so the
figures are seconds per clip rather than a batch's wall time. CPU seconds are those
of the ffmpeg children, steadier than wall time on a shared machine.

Usage:
    uv run python bench/audiogram.py [LECTURE.mp4] [--clips 3] [--seconds 30]
        [--preset veryfast] [--repeat 2]

Default material: tests/fixtures/lectures/sbs.mp4 (217 s, 960x540, 25 fps, synthesized
speech in AAC).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from highlights.ffmpeg import run_ffmpeg  # noqa: E402
from highlights.render import RenderOptions, render_clips  # noqa: E402
from highlights.render.source import probe_source  # noqa: E402
from highlights.types import ClipPlan, LayoutResult, Region  # noqa: E402

DEFAULT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "lectures" / "sbs.mp4"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(source: Path, plans: list[ClipPlan], options: RenderOptions, out: Path):
    layout = LayoutResult(Region.full(), Region.empty(), 1.0, "full_screen", 1.0, 0.0)
    wall, cpu = time.perf_counter(), children_cpu()
    clips = render_clips(source, plans, None, layout, options, out)
    return time.perf_counter() - wall, children_cpu() - cpu, clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs")
    args = parser.parse_args()

    video = probe_source(args.source)
    step = video.duration / args.clips
    plans = [
        ClipPlan(i * step + 1.0, min(i * step + 1.0 + args.seconds, video.duration), i,
                 f"Clip {i + 1}: a title long enough to wrap onto a second line", "t", 0.5,
                 i + 1)  # fmt: skip
        for i in range(args.clips)
    ]
    print(f"material: {args.source.name} ({video.duration:.0f} s, {video.width}x{video.height}, "
          f"{video.fps:g} fps); {args.clips} clips of {args.seconds:g} s, preset {args.preset}, "
          f"one clip at a time, thumbnails on; {os.cpu_count()} cores; best of {args.repeat}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / (args.source.stem + ".m4a")
        run_ffmpeg(["-loglevel", "error", "-i", str(args.source), "-vn", "-c:a", "copy",
                    str(audio)])  # fmt: skip
        print(f"{'format':<10} {'picture':<10} {'size':>10} {'wall s/clip':>12} "
              f"{'cpu s/clip':>11} {'MB/clip':>8}")  # fmt: skip
        for fmt in ("original", "vertical"):
            options = RenderOptions(format=fmt, preset=args.preset, max_workers=1)
            for picture, source in (("video", args.source), ("audiogram", audio)):
                best = None
                for run in range(args.repeat):
                    wall, cpu, clips = timed(source, plans, options, Path(tmp) / f"{fmt}-{picture}-{run}")
                    if best is None or wall < best[0]:
                        best = (wall, cpu, clips)
                wall, cpu, clips = best
                meta = clips[0].metadata
                size = f"{meta['width']}x{meta['height']}"
                mb = sum(c.metadata["file_size"] for c in clips) / len(clips) / 1e6
                print(f"{fmt:<10} {picture:<10} {size:>10} {wall / len(clips):>12.2f} "
                      f"{cpu / len(clips):>11.2f} {mb:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
