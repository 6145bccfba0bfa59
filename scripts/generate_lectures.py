"""Generate synthetic lecture recordings with exact ground truth.

    uv run python scripts/generate_lectures.py                  # regenerate the committed set
    uv run python scripts/generate_lectures.py presets sbs pip  # only some of it
    uv run python scripts/generate_lectures.py custom out/long.mp4 --duration 3600
    uv run python scripts/generate_lectures.py topics           # list topic keys

Needs espeak-ng (apt-get install espeak-ng) and the dev dependencies (scikit-image).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from lecturesynth import LAYOUTS, LectureSpec, SynthError, generate_lecture
from lecturesynth.presets import PRESETS
from lecturesynth.scripts import TOPICS

REPO = Path(__file__).resolve().parent.parent


def _progress(name: str):
    last = [-1]

    def report(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent // 10 != last[0] // 10:
            last[0] = percent
            print(f"  {name}: {percent}%", file=sys.stderr, flush=True)

    return report


def _summary(lecture, seconds: float) -> str:
    t = lecture.truth
    size = lecture.video_path.stat().st_size / 1e6
    topics = ", ".join(f"{x['title']} {x['start']:.1f}-{x['end']:.1f}" for x in t["topics"])
    return (
        f"{lecture.video_path}: {t['duration']:.2f} s, {t['width']}x{t['height']}@{t['fps']:g}, "
        f"{t['layout']['layout_type']}, {size:.2f} MB, made in {seconds:.1f} s\n  topics: {topics}"
    )


def _run(name: str, spec: LectureSpec, out: Path) -> None:
    began = time.monotonic()
    lecture = generate_lecture(spec, out, progress=_progress(name))
    print(_summary(lecture, time.monotonic() - began), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    presets = sub.add_parser("presets", help="regenerate committed lectures (default: all)")
    presets.add_argument("names", nargs="*", choices=list(PRESETS), metavar="NAME")
    custom = sub.add_parser("custom", help="generate one lecture")
    custom.add_argument("out", type=Path, help="output .mp4 (the .json goes beside it)")
    custom.add_argument("--layout", choices=LAYOUTS, default="side_by_side")
    custom.add_argument("--topics", default="", help="comma-separated topic keys (default: all)")
    custom.add_argument(
        "--duration", type=float, help="target seconds; topics are cycled to reach it"
    )
    custom.add_argument(
        "--important", type=int, default=1, help="index of the important topic, -1 for none"
    )
    custom.add_argument("--width", type=int, default=1280)
    custom.add_argument("--height", type=int, default=720)
    custom.add_argument("--fps", type=float, default=25.0)
    custom.add_argument(
        "--blank", type=float, default=8.0, help="seconds of black screen in the middle"
    )
    custom.add_argument("--seed", type=int, default=0)
    custom.add_argument(
        "--topic-repeats", type=int, default=1,
        help="read each topic's slides N times in a row (topics of several minutes)",
    )
    custom.add_argument("--wpm", type=int, default=150, help="speaking rate, words per minute")
    custom.add_argument(
        "--preset", default="veryfast", help="x264 preset (ultrafast is quicker, files bigger)"
    )
    sub.add_parser("topics", help="list the topic library")
    args = parser.parse_args(argv)

    try:
        if args.command == "topics":
            for topic in TOPICS:
                print(f"{topic.key:22} {topic.title} ({len(topic.sentences)} sentences)")
        elif args.command == "custom":
            base = LectureSpec()
            spec = replace(
                base,
                layout=args.layout,
                topics=tuple(k.strip() for k in args.topics.split(",") if k.strip()),
                duration=args.duration,
                important_topic=None if args.important < 0 else args.important,
                width=args.width,
                height=args.height,
                fps=args.fps,
                blank_seconds=args.blank,
                seed=args.seed,
                topic_repeats=args.topic_repeats,
                voice=replace(base.voice, words_per_minute=args.wpm),
                preset=args.preset,
            )
            _run(args.out.stem, spec, args.out)
        else:
            for name in getattr(args, "names", None) or list(PRESETS):
                path, spec = PRESETS[name]
                _run(name, spec, REPO / path)
    except SynthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
