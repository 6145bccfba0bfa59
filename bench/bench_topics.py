"""Slide-led topic segmentation on long lectures, with the real OCR engine.

    uv run python bench/bench_topics.py            # both lectures
    uv run python bench/bench_topics.py --quick    # shorter versions, for a smoke run

Material (said in the output too): lectures laid out at 156 words a minute from the
topic texts in tests/content_topics.py, with slides drawn by the lecture generator's
renderer at 1280x720 and read back by OCR (the layout stage's reader, one read per
slide). Two shapes:

- 60 minutes, 48 topics of about 75 s, two slides per topic ("Title", "Title (cont.)")
  with a course-name footer and slide numbers on every slide;
- 40 minutes, 6 topics of about 7 minutes, eight slides per topic, each with its own
  heading and the topic's name in a running footer (a section label).

Prints Pk (1-second units; lower is better, the target is 0.15), the share of the true
titles' content words found in the segment titles (target 90%), and the OCR cost per
slide and in all, against 5% of the whole one-hour pipeline (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from content_topics import ALL_TOPICS, build_lecture, transcript_from_speech  # noqa: E402
from nltk.metrics.segmentation import pk  # noqa: E402

from highlights.content.local import LocalAnalyzer  # noqa: E402
from highlights.ocr import OcrEngine  # noqa: E402
from highlights.slide_text import SlideRead, build_deck  # noqa: E402
from highlights.titles import normalize  # noqa: E402
from lecturesynth.scripts import BulletScript, SlideScript  # noqa: E402
from lecturesynth.slides import render_slide  # noqa: E402

# The one-hour pipeline's wall time on the embedded defaults (docs/benchmarks.md).
PIPELINE_60_MIN_SECONDS = 290.0


def boundary_string(starts: list[float], duration: float) -> str:
    marks = ["0"] * int(round(duration))
    for t in starts:
        if 0 < int(round(t)) < len(marks):
            marks[int(round(t))] = "1"
    return "".join(marks)


def slide_plan(lecture, headings, footers):
    """(start, end, heading, footer) for every slide, spread evenly over each topic."""
    plan = []
    for k, topic in enumerate(lecture.topics):
        start = lecture.topics[k - 1]["end"] if k else 0.0
        end = lecture.topics[k + 1]["start"] - 0.5 if k + 1 < len(lecture.topics) else lecture.duration
        titles = headings(k, topic)
        step = (end - start) / len(titles)
        for i, title in enumerate(titles):
            plan.append((start + i * step, start + (i + 1) * step, title, footers(k, topic)))
    return plan


def read_slides(lecture, plan, engine):
    reads, seconds = [], []
    for number, (start, end, title, footer) in enumerate(plan, start=1):
        spoken = [s["text"] for s in lecture.speech if start <= s["start"] < end][:2]
        bullets = tuple(BulletScript(" ".join(t.split()[:7]).rstrip(",."), ()) for t in spoken)
        image = render_slide(SlideScript(title, bullets), len(bullets), footer, number, number % 5,
                             (1280, 720))
        began = time.perf_counter()
        lines = engine.read(image)
        seconds.append(time.perf_counter() - began)
        reads.append(SlideRead(start, end, tuple(lines)))
    slides, _ = build_deck(reads)
    return slides, seconds


def run(name, lecture, plan, engine):
    slides, seconds = read_slides(lecture, plan, engine)
    began = time.perf_counter()
    analysis = LocalAnalyzer().analyze(
        transcript_from_speech(lecture.speech), slide_changes=[p[0] for p in plan[1:]],
        silences=[], duration=lecture.duration, slides=slides)
    analysis_seconds = time.perf_counter() - began
    truth = [t["start"] for t in lecture.topics]
    found = [s.start for s in analysis.segments]
    score = pk(boundary_string(truth, lecture.duration), boundary_string(found, lecture.duration),
               boundary="1")
    words = [w for t in lecture.topics for w in t["title"].split() if len(normalize(w)) > 3]
    titles = " ".join(normalize(s.topic) for s in analysis.segments)
    held = sum(1 for w in words if normalize(w) in titles) / max(1, len(words))
    words_spoken = sum(len(s["text"].split()) for s in lecture.speech)
    print(f"\n{name}: {lecture.duration / 60:.1f} min, {len(lecture.topics)} topics, "
          f"{words_spoken / (lecture.duration / 60):.0f} words/min, {len(plan)} slides")
    print(f"  segments found: {len(analysis.segments)}; Pk {score:.3f} (target <= 0.15)")
    print(f"  title content words held: {held:.0%} (target >= 90%)")
    print(f"  OCR: {statistics.mean(seconds):.2f} s per slide (median {statistics.median(seconds):.2f}), "
          f"{sum(seconds):.1f} s in all = {100 * sum(seconds) / PIPELINE_60_MIN_SECONDS:.1f}% of a "
          f"{PIPELINE_60_MIN_SECONDS:.0f} s one-hour pipeline; analysis {analysis_seconds:.2f} s")
    return score, held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="12 short topics and 3 long ones")
    args = parser.parse_args()
    engine = OcrEngine.shared()
    topics = list(ALL_TOPICS)
    # each topic about 75 s: its sentences once and then some again, rotated
    many = [replace(t, sentences=(t.sentences * 2)[: int(len(t.sentences) * 1.4)])
            for t in (topics * 3)[: 12 if args.quick else 48]]
    short = build_lecture(many, words_per_second=2.6)
    run("many short topics", short,
        slide_plan(short, lambda k, t: [t["title"], f"{t['title']} (cont.)"],
                   lambda k, t: "Introduction to the Sciences, Fall term"), engine)
    few = topics[: 3 if args.quick else 6]
    long = build_lecture(few, words_per_second=2.6, repeat=7)
    run("few long topics", long,
        slide_plan(long, lambda k, t: [f"Part {i + 1} of the story" if i % 2 else f"Looking closer {i + 1}"
                                       for i in range(8)],
                   lambda k, t: t["title"]), engine)
    print("\nMaterial: topic texts of tests/content_topics.py timed at 2.6 words/s; slides drawn "
          "by lecturesynth at 1280x720 and read by RapidOCR (PP-OCRv4) on this machine.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
