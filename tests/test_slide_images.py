"""Which slide pictures need reading: repeats and build steps, on rendered slides and
through the real OCR engine (nothing here stubs it)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from highlights.ocr import OcrEngine
from highlights.ocr_readers import read_part
from highlights.slide_images import Thumbnail, changed_box, closest, only_adds, same_picture
from highlights.slide_text import read_slide_images, slide_spans
from highlights.titles import normalize
from highlights.types import Region
from lecturesynth.scripts import TOPICS, BulletScript, SlideScript
from lecturesynth.slides import render_slide

SIZE = (960, 540)


def slide(topic: int, index: int, visible: int | None = None, number: int = 3) -> np.ndarray:
    script = TOPICS[topic].slides[index]
    shown = len(script.bullets) if visible is None else visible
    return render_slide(script, shown, "Data Structures 101", number, topic, SIZE)


def compressed(image: np.ndarray, quality: int = 40) -> np.ndarray:
    """The picture after a lossy codec: what a frame of a screen recording looks like."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def thumb(image: np.ndarray) -> Thumbnail:
    return Thumbnail.of(image)


def test_the_same_slide_after_compression_is_the_same_picture() -> None:
    a = slide(0, 0)
    assert same_picture(thumb(a), thumb(compressed(a)))
    assert same_picture(thumb(compressed(a, 30)), thumb(compressed(a, 80)))


@pytest.mark.parametrize("size", [(640, 360), (1920, 1080)])
def test_one_changed_digit_in_the_body_makes_another_picture(size: tuple[int, int]) -> None:
    script = TOPICS[0].slides[0]

    def with_digit(digit: str) -> np.ndarray:
        first = BulletScript(f"{script.bullets[0].text} {digit}", ())
        changed = SlideScript(script.title, (first, *script.bullets[1:]))
        return render_slide(changed, len(changed.bullets), "Data Structures 101", 3, 0, size)

    assert not same_picture(thumb(with_digit("1")), thumb(with_digit("7")))
    assert same_picture(thumb(compressed(with_digit("1"), 30)), thumb(compressed(with_digit("1"), 90)))


def test_one_changed_word_makes_another_picture() -> None:
    script = TOPICS[0].slides[0]
    bullets = list(script.bullets)
    first = bullets[0].text.split()
    changed = " ".join([*first[:-1], "heap" if first[-1] != "heap" else "tree"])
    bullets[0] = BulletScript(changed, bullets[0].sentences)
    other = render_slide(SlideScript(script.title, tuple(bullets)), len(bullets),
                         "Data Structures 101", 3, 0, SIZE)
    assert not same_picture(thumb(slide(0, 0)), thumb(other))
    assert not same_picture(thumb(slide(0, 0)), thumb(slide(0, 1)))
    assert not same_picture(thumb(slide(0, 0)), thumb(slide(1, 0)))


def test_a_build_step_only_adds_and_the_way_back_does_not() -> None:
    script = TOPICS[0].slides[0]
    # the title alone, then one bullet after another
    steps = [compressed(slide(0, 0, visible=k)) for k in range(len(script.bullets) + 1)]
    assert len(steps) >= 3
    for earlier, later in zip(steps, steps[1:], strict=False):
        assert only_adds(thumb(earlier), thumb(later))
        assert not only_adds(thumb(later), thumb(earlier))  # a line went away
    # another slide of the same design is not a build of this one
    assert not only_adds(thumb(steps[0]), thumb(compressed(slide(0, 1))))
    assert not only_adds(thumb(steps[-1]), thumb(compressed(slide(1, 0))))


def write_video(path: Path, pictures: list[np.ndarray], seconds: float, fps: int = 5) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for picture in pictures:
            for _ in range(int(seconds * fps)):
                frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.mark.slow
def test_a_revisited_slide_and_a_build_are_each_read_once(tmp_path: Path) -> None:
    a, b = TOPICS[0].slides[0], TOPICS[1].slides[0]
    pictures = [
        slide(0, 0),  # A
        slide(1, 0, visible=1),  # B, first bullet ...
        slide(1, 0, visible=2),  # ... second ...
        slide(1, 0),  # ... all of B
        slide(0, 0),  # back to A to answer a question
    ]
    video = tmp_path / "deck.mp4"
    write_video(video, pictures, seconds=4.0)
    spans = slide_spans([4.0 * k for k in range(1, len(pictures))], 4.0 * len(pictures))
    images = read_slide_images(video, spans, Region.full(), None)
    assert images.ocr_reads == 2  # A once, B once (its full build)
    texts = [[normalize(line.text) for line in read.lines] for read in images.reads]
    for k in (0, 4):
        assert normalize(a.title) in texts[k] and normalize(a.bullets[0].text) in texts[k]
    for k in (1, 2, 3):  # each build step carries the whole slide's text
        assert normalize(b.title) in texts[k]
        assert all(normalize(bullet.text) in texts[k] for bullet in b.bullets), texts[k]


def texts_of(lines) -> list[str]:  # noqa: ANN001
    return sorted(normalize(line.text) for line in lines)


def holds_slide(lines, script: SlideScript) -> bool:  # noqa: ANN001
    """The read holds the slide's title and every bullet, each on a line of its own."""
    texts = texts_of(lines)
    return all(normalize(t) in texts for t in (script.title, *(b.text for b in script.bullets)))


def test_closest_finds_the_same_picture_else_the_smallest_change() -> None:
    """One comparison per earlier picture gives what `same_picture` and `changed_box`
    give: the first same picture, else the earlier one differing in the smallest part."""
    pictures = [thumb(compressed(p)) for p in (slide(0, 0, number=3), slide(1, 0, number=4),
                                                 slide(0, 1, number=12), slide(0, 0, number=6))]

    def by_pairs(later: Thumbnail) -> tuple[int | None, tuple[int, object] | None]:
        same = [k for k, p in enumerate(pictures) if same_picture(p, later)]
        if same:
            return same[0], None
        boxes = [(k, changed_box(p, later)) for k, p in enumerate(pictures)]
        small = [(k, b) for k, b in boxes if b is not None]
        return None, min(small, key=lambda kb: kb[1].area, default=None)

    renumbered = thumb(compressed(slide(0, 0, number=17)))  # slides 0 and 3 but for the number
    again = thumb(compressed(slide(1, 0, number=4), 30))  # shown again after a lossy codec
    other = thumb(compressed(slide(2, 0, number=8)))  # a slide of its own
    results = [closest(pictures, later) for later in (renumbered, again, other)]
    assert results == [by_pairs(later) for later in (renumbered, again, other)]
    assert results[0][0] is None and results[0][1] is not None and results[0][1][0] in (0, 3)
    assert results[1] == (1, None)
    assert results[2] == (None, None)


def test_a_changed_slide_number_is_read_in_its_part_only() -> None:
    engine = OcrEngine.shared()
    before, after = compressed(slide(0, 0, number=3)), compressed(slide(0, 0, number=17))
    box = changed_box(thumb(before), thumb(after))
    assert box is not None and box.area < 0.02, box
    part = read_part(engine, after, tuple(engine.read(before)), box)
    assert holds_slide(part, TOPICS[0].slides[0])
    assert "17" in texts_of(part) and "3" not in texts_of(part)
    assert changed_box(thumb(before), thumb(before)) is None  # nothing changed
    # another slide of the same design changes all its text: however it is read, it
    # reads as that slide
    other = compressed(slide(1, 0))
    box = changed_box(thumb(before), thumb(other))
    read = engine.read(other) if box is None else read_part(engine, other, tuple(engine.read(before)), box)
    assert holds_slide(read, TOPICS[1].slides[0])
    assert not any(normalize(b.text) in texts_of(read) for b in TOPICS[0].slides[0].bullets)


def test_a_changed_word_is_read_in_its_part_and_the_rest_kept() -> None:
    engine = OcrEngine.shared()
    script = TOPICS[0].slides[0]
    bullets = list(script.bullets)
    words = bullets[1].text.split()
    bullets[1] = BulletScript(" ".join([*words[:-1], "quickly" if words[-1] != "quickly" else "slowly"]), ())
    changed = SlideScript(script.title, tuple(bullets))
    before = compressed(slide(0, 0))
    after = compressed(render_slide(changed, len(bullets), "Data Structures 101", 3, 0, SIZE))
    box = changed_box(thumb(before), thumb(after))
    assert box is not None
    earlier = tuple(engine.read(before))
    part = read_part(engine, after, earlier, box)
    assert normalize(bullets[1].text) in texts_of(part)
    assert normalize(script.bullets[1].text) not in texts_of(part)
    assert holds_slide(part, changed)
    # the lines outside the part are the earlier read's, boxes and all
    assert [ln for ln in earlier if normalize(ln.text) == normalize(script.title)][0] in part
