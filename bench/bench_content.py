"""Benchmark: the local content analyzer on a synthetic 3-hour lecture.

Builds a timed transcript from the topic texts in tests/content_topics.py (22 topics from
several subjects, each repeated in rotated order to ~8 minutes), analyses it with the
local analyzer, and prints the time taken and the segmentation quality (Pk on 1-second
units, median boundary error). The target is under 10 s on 2 cores.

    uv run python bench/bench_content.py [--hours 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from highlights.content.local import LocalAnalyzer  # noqa: E402
from tests.content_topics import ALL_TOPICS, build_lecture, transcript_from_speech  # noqa: E402


def boundary_string(starts: list[float], duration: float) -> str:
    marks = ["0"] * int(duration)
    for t in starts:
        i = int(round(t))
        if 0 < i < len(marks):
            marks[i] = "1"
    return "".join(marks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    one_pass = build_lecture(ALL_TOPICS)
    repeat = max(1, round(args.hours * 3600 / one_pass.duration))
    lecture = build_lecture(ALL_TOPICS, repeat=repeat)
    transcript = transcript_from_speech(lecture.speech)
    words = sum(len(s.text.split()) for s in transcript.segments)
    print(
        f"lecture: {lecture.duration / 3600:.2f} h, {len(transcript.segments)} transcript segments, "
        f"{words} words, {len(lecture.topics)} topics, {len(lecture.slide_changes)} slide changes"
    )

    analyzer = LocalAnalyzer()
    timings = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = analyzer.analyze(
            transcript, slide_changes=lecture.slide_changes, silences=[], duration=lecture.duration
        )
        timings.append(time.perf_counter() - t0)
    print(
        f"analyze: median {statistics.median(timings):.2f} s, best {min(timings):.2f} s over {args.runs} runs"
    )

    from nltk.metrics.segmentation import pk

    truth = [t["start"] for t in lecture.topics[1:]]
    found = [s.start for s in result.segments[1:]]
    score = pk(
        boundary_string(truth, lecture.duration),
        boundary_string(found, lecture.duration),
        boundary="1",
    )
    errors = [min(abs(t - f) for f in found) for t in truth] if found else [float("inf")]
    print(
        f"segments: {len(result.segments)} found for {len(lecture.topics)} true topics; "
        f"Pk {score:.3f} (1-second units); median boundary error {statistics.median(errors):.1f} s"
    )
    for seg in result.segments[:5]:
        print(f"  {seg.start:8.1f}-{seg.end:8.1f}  {seg.importance_score:.2f}  {seg.topic}")


if __name__ == "__main__":
    main()
