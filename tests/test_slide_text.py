"""Slide text: the real OCR engine on slides drawn by the lecture generator.

No test here stubs the engine: slides are rendered with real fonts (as the generated
lectures are) and read by RapidOCR; the committed fixtures are read from their video.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from highlights.ocr import OcrEngine, detector_side, respace
from highlights.slide_text import SlideRead, build_deck, merge_builds, read_deck, slide_spans
from highlights.titles import clean_title, normalize
from highlights.types import Region, Slide, SlideLine
from lecturesynth.scripts import TOPICS
from lecturesynth.slides import render_slide

LECTURES = Path(__file__).parent / "fixtures" / "lectures"


def render(slide_index: int, topic_index: int, footer: str, number: int,
           size: tuple[int, int] = (960, 540)) -> np.ndarray:
    slide = TOPICS[topic_index].slides[slide_index]
    return render_slide(slide, len(slide.bullets), footer, number, topic_index, size)



@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine.shared()


@pytest.mark.parametrize("size", [(640, 360), (1280, 720)])
def test_ocr_reads_a_rendered_slide(engine: OcrEngine, size: tuple[int, int]) -> None:
    slide = TOPICS[0].slides[0]
    lines = engine.read(render(0, 0, "Data Structures 101", 4, size))
    texts = [normalize(ln.text) for ln in lines]
    assert normalize(slide.title) in texts, texts
    for bullet in slide.bullets:
        assert normalize(bullet.text) in texts, (bullet.text, texts)
    assert all(0.0 <= ln.confidence <= 1.0 and 0 <= ln.top < ln.bottom <= 1 for ln in lines)
    # read top to bottom: the title comes first
    assert texts[0] == normalize(slide.title)


def test_short_lines_beside_long_ones_are_read_exactly(engine: OcrEngine) -> None:
    """A running footer in small type (the topic's name) on 854x480 slides whose body
    lines are long. RapidOCR's default recognises lines in batches padded to the widest
    line's width, which misread 4 of these footers ("HashTables"); one line at a time
    reads them all, and costs less."""
    expected, missed = 0, []
    for topic_index, topic in enumerate(TOPICS[:8]):
        for slide_index, slide in enumerate(topic.slides):
            image = render_slide(slide, len(slide.bullets), topic.title, slide_index + 1,
                                 topic_index, (854, 480))
            read = {ln.text for ln in engine.read(image)}
            truth = [slide.title, *(b.text for b in slide.bullets), topic.title]
            expected += len(truth)
            missed += [text for text in truth if text not in read]
    assert expected > 60
    assert len(missed) <= 1, missed


def test_short_labels_are_recognised_at_their_own_width(engine: OcrEngine) -> None:
    """Diagram labels and slide numbers go through the recogniser as wide as their text,
    not padded to RapidOCR's 320 px (a padded "bastille" read as "bastille.", and every
    slide number cost as much as a line of body text)."""
    from PIL import Image, ImageDraw

    from lecturesynth.fonts import load_font

    labels = ["bastille", "load factor", "heap", "42"]
    picture = Image.new("RGB", (894, 720), (248, 248, 244))
    draw = ImageDraw.Draw(picture)
    font = load_font(26)
    for row, label in enumerate(labels):
        x, y = 120 + 180 * (row % 2), 120 + 140 * row
        draw.rectangle([x - 20, y - 16, x + draw.textlength(label, font=font) + 20, y + 46],
                       fill=(220, 150, 190), outline=(160, 40, 100), width=3)
        draw.text((x, y), label, font=font, fill=(40, 30, 40))
    session = engine._ocr.text_rec.session
    widths: list[int] = []
    real_call = session.__call__

    class Recording:
        def __call__(self, batch: np.ndarray) -> object:
            widths.extend([batch.shape[-1]] * batch.shape[0])
            return real_call(batch)

    engine._ocr.text_rec.session = Recording()
    try:
        read = [ln.text for ln in engine.read(np.asarray(picture)[:, :, ::-1].copy())]
    finally:
        engine._ocr.text_rec.session = session
    assert read == labels
    assert len(widths) == len(labels) and max(widths) < 320, widths


@pytest.mark.parametrize("size", [(1024, 768), (640, 480)])
def test_four_by_three_slides_are_read_exactly_without_their_bullets(
    engine: OcrEngine, size: tuple[int, int]
) -> None:
    """A 4:3 slide is detected on a copy 540 px high (about 720 x 540), half the pixels
    of the 960-wide copy it had: every title, bullet line and footer is still read, and
    the bullet glyphs the smaller copy joins to their lines are not part of the text."""
    expected, missed, with_glyph = 0, [], []
    for topic_index, topic in enumerate(TOPICS[:4]):
        for slide_index, slide in enumerate(topic.slides):
            image = render_slide(slide, len(slide.bullets), topic.title, slide_index + 1,
                                 topic_index, size)
            read = [ln.text for ln in engine.read(image)]
            truth = [slide.title, *(b.text for b in slide.bullets), topic.title]
            expected += len(truth)
            missed += [text for text in truth if text not in read]
            with_glyph += [text for text in read
                           if text not in truth and any(text.endswith(t) for t in truth)]
    assert expected > 30
    assert len(missed) <= 1, missed
    assert not with_glyph


def test_the_engine_keeps_onnxruntimes_memory_arena(engine: OcrEngine) -> None:
    """RapidOCR turns the arena off; ours keep it on (fewer fresh pages per read), and
    sessions made outside our engine are left as RapidOCR makes them."""
    from rapidocr_onnxruntime.utils.infer_engine import OrtInferSession

    detector, recogniser = engine._ocr.text_det.infer, engine._ocr.text_rec.session
    for wrapper in (detector, recogniser):
        assert wrapper.session.get_session_options().enable_cpu_mem_arena
    assert not OrtInferSession._init_sess_opts({}).enable_cpu_mem_arena


def test_the_detector_copy_keeps_the_short_side_at_540() -> None:
    assert detector_side(720, 1280) == 960  # 16:9: 960 x 540
    assert detector_side(800, 1067) == 720  # 4:3, upscaled for the recogniser: 720 x 540
    assert detector_side(1080, 1920) == 960
    assert detector_side(480, 640) == 640  # never enlarged
    assert detector_side(1280, 720) == 960  # portrait: the short side is the width


def test_deck_drops_repeated_footer_and_numbers_and_finds_titles(engine: OcrEngine) -> None:
    # Four slides of two topics, each with the course name and slide number in the footer.
    reads = []
    for i, (topic, slide) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        image = render(slide, topic, "Data Structures 101", i + 1)
        reads.append(SlideRead(i * 30.0, (i + 1) * 30.0, tuple(engine.read(image))))
    slides, has_sections = build_deck(reads)
    assert not has_sections
    assert [normalize(s.title) for s in slides] == [
        normalize(TOPICS[t].slides[k].title) for t, k in [(0, 0), (0, 1), (1, 0), (1, 1)]
    ]
    for s in slides:
        bodies = [normalize(ln.text) for ln in s.lines]
        assert normalize("Data Structures 101") not in bodies
        assert not any(b.isdigit() for b in bodies), bodies
        assert 0.5 < s.confidence <= 1.0


def test_deck_with_a_running_topic_footer_has_sections(engine: OcrEngine) -> None:
    reads = []
    plan = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    for i, (topic, slide) in enumerate(plan):
        image = render(slide, topic, TOPICS[topic].title, i + 1)
        reads.append(SlideRead(i * 30.0, (i + 1) * 30.0, tuple(engine.read(image))))
    slides, has_sections = build_deck(reads)
    assert has_sections
    assert [normalize(s.section) for s in slides] == [normalize(TOPICS[t].title) for t, _ in plan]


def test_read_deck_on_a_committed_lecture() -> None:
    truth = json.loads((LECTURES / "pip.json").read_text())
    layout = truth["layout"]
    deck = read_deck(
        LECTURES / "pip.mp4", truth["slide_changes"], truth["duration"],
        Region.from_dict(layout["screen_region"]), Region.from_dict(layout["camera_region"]),
    )
    # one read per span between slide changes, and every span shows a titled slide
    assert deck.reads == len(truth["slide_changes"]) + 1
    assert deck.slides and all(s.title for s in deck.slides)
    sections = {normalize(s.section) for s in deck.slides}
    assert sections == {normalize(t["title"]) for t in truth["topics"]}
    summary = deck.summary()
    assert summary["slides_with_text"] == len(deck.slides) and summary["ocr_seconds"] > 0
    # what reading cost in CPU: each read runs the detector (tenths of a second), on
    # at most one core per reader while the reading lasted
    ocr_cpu = summary["ocr_cpu_seconds"]
    assert 0.05 * deck.ocr_reads < ocr_cpu <= summary["ocr_seconds"] * deck.ocr_readers + 0.1
    assert 0 < summary["picture_cpu_seconds"] <= summary["ocr_seconds"] + 0.1


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Hash Tables (cont.)", "Hash Tables"),
        ("Hash Tables (continued)", "Hash Tables"),
        ("Hash Tables - cont'd", "Hash Tables"),
        ("Sorting 3/12", "Sorting"),
        ("Slide 4: Graph Traversal", "Graph Traversal"),
        ("7. The Immune System", "The Immune System"),
        ("Newton's Laws of Motion", "Newton's Laws of Motion"),
    ],
)
def test_clean_title(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


def test_respace_splits_only_into_known_words() -> None:
    vocabulary = {"load", "factor", "hash", "function", "maps", "each", "key", "to", "bucket"}
    assert respace("BinarySearchTrees", vocabulary) == "Binary Search Trees"
    assert respace("loadfactor", vocabulary) == "load factor"
    assert respace("Ahashfunctionmapseachkeytoabucket", vocabulary) == (
        "A hash function maps each key to a bucket"
    )
    # unknown words stay as read: never invent a split
    assert respace("photosynthesis", vocabulary) == "photosynthesis"
    assert respace("Hash tables: the idea", vocabulary) == "Hash tables: the idea"


def test_bullet_build_read_twice_is_one_slide() -> None:
    first = Slide(0.0, 10.0, "Sorting", (SlideLine("Merge sort", 0.9),), 0.9)
    build = Slide(10.0, 25.0, "Sorting", (SlideLine("Merge sort", 0.9), SlideLine("Quicksort", 0.9)), 0.9)
    other = Slide(25.0, 40.0, "Graphs", (SlideLine("Vertices", 0.9),), 0.9)
    merged = merge_builds([first, build, other])
    assert [(s.start, s.end, s.title) for s in merged] == [(0.0, 25.0, "Sorting"), (25.0, 40.0, "Graphs")]
    assert [ln.text for ln in merged[0].lines] == ["Merge sort", "Quicksort"]


def test_slide_spans_cover_the_recording() -> None:
    assert slide_spans([10.0, 25.0, 99.0], 60.0) == [(0.0, 10.0), (10.0, 25.0), (25.0, 60.0)]
    assert slide_spans([], 30.0) == [(0.0, 30.0)]


def test_blank_screen_reads_nothing(engine: OcrEngine) -> None:
    blank = np.full((540, 960, 3), 20, dtype=np.uint8)
    assert engine.read(blank) == []
    slides, _ = build_deck([SlideRead(0.0, 30.0, ())])
    assert slides == [] or all(not s.title and not s.lines for s in slides)
