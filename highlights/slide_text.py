"""Slide text: each distinct slide read once, split into title, section, body and footer.

The visual pass already knows when the slide changes (`highlights.slides`; a bullet build
is not a change). For every span between changes one full-resolution frame is decoded
from the source, late in the span so that every bullet of a build is on screen (or
earlier, nearer a key frame, where the screen already shows the same), and the
screen region (camera inset painted over) goes through OCR, unless the same picture was
read before or the next span's picture only adds to it (`highlights.slide_images`).

Then the deck is read as a whole, because what a line *is* shows only across slides:

- a line at the top or bottom edge that repeats on most slides is boilerplate (course
  name, lecturer, date, logo text) and is dropped, as are slide numbers;
- a header or footer line that stays the same over a run of slides and changes between
  runs is a *section* label (Beamer's navigation lines, a running topic footer);
- the title is the top line, or lines, of the largest type in the upper part;
- everything else is the body, in reading order.

Consecutive reads with the same title whose body only grew are one slide (a build that
the change detector counted as a change).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from highlights.low_priority import run_at_low_priority
from highlights.ocr import ENGINE_NAME, OcrEngine, OcrLine, respace
from highlights.ocr_readers import OcrReaders
from highlights.slide_images import Thumbnail, closest, only_adds
from highlights.titles import normalize
from highlights.types import Region, Slide, SlideLine

MIN_LINE_CONFIDENCE = 0.6
# Lines starting above this (share of the crop's height) may be the title.
TITLE_ZONE = 0.4
# Header and footer bands, as shares of the crop's height from each edge.
EDGE_BAND = 0.15
# A band line on at least this share of slides (and 3 or more) is boilerplate.
BOILERPLATE_SHARE = 0.6
# The moment a slide is read: this long before its span ends (builds are complete) ...
_READ_BEFORE_END = 1.5
# ... but never earlier than this share into the span.
_READ_NOT_BEFORE = 0.5
# A picture taken earlier than planned (nearer a key frame) is taken at least this long
# after the slide changed, when a transition or animation is over.
_PICTURE_SETTLE = 1.0

_SLIDE_NUMBER = re.compile(
    r"^(?:slide|page|p\.?)?\s*\d{1,3}(?:\s*(?:/|of)\s*\d{1,3})?$", re.IGNORECASE
)



@dataclass(frozen=True)
class SlideRead:
    """What OCR found on one slide span, before the deck is read as a whole."""

    start: float
    end: float
    lines: tuple[OcrLine, ...]


@dataclass
class SlideDeck:
    """The lecture's slides with their text, and what reading them cost."""

    slides: list[Slide]
    reads: int = 0  # spans between slide changes
    ocr_reads: int = 0  # pictures OCR read: a repeated picture or a build step is read once
    ocr_readers: int = 1  # OCR engines that took part (a second joins once transcription is done)
    part_reads: int = 0  # of ocr_reads, pictures read only where they differ from an earlier one
    key_frame_grabs: int = 0  # spans whose picture was taken at one of the source's key frames
    seconds: float = 0.0  # wall time of the whole reading
    ocr_cpu_seconds: float = 0.0
    picture_cpu_seconds: float = 0.0
    engine: str = ENGINE_NAME
    has_sections: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def with_text(self) -> int:
        return sum(1 for s in self.slides if s.title or s.lines)

    def summary(self) -> dict[str, object]:
        return {
            "engine": self.engine,
            "slides_read": self.reads,
            "ocr_reads": self.ocr_reads,
            "ocr_readers": self.ocr_readers,
            "part_reads": self.part_reads,
            "key_frame_grabs": self.key_frame_grabs,
            "slides": len(self.slides),
            "slides_with_text": self.with_text,
            "titled": sum(1 for s in self.slides if s.title),
            "sections": self.has_sections,
            "ocr_seconds": round(self.seconds, 2),
            "ocr_cpu_seconds": round(self.ocr_cpu_seconds, 2),
            "picture_cpu_seconds": round(self.picture_cpu_seconds, 2),
        }


def slide_spans(changes: Sequence[float], duration: float) -> list[tuple[float, float]]:
    """The spans between slide changes, covering the whole recording."""
    edges = [0.0, *sorted(t for t in changes if 0.0 < t < duration), max(duration, 0.0)]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def read_moment(start: float, end: float, not_blank: Callable[[float], bool] | None = None) -> float:
    """When to read a slide: late in its span (builds complete), on a non-blank frame."""
    latest = max(start, end - _READ_BEFORE_END)
    earliest = start + _READ_NOT_BEFORE * (end - start)
    moment = max(earliest, latest) if end - start > 2 * _READ_BEFORE_END else (start + end) / 2
    if not_blank is None or not_blank(moment):
        return moment
    for fraction in (0.75, 0.5, 0.25, 0.9):  # the slide went blank late: look earlier
        t = start + fraction * (end - start)
        if not_blank(t):
            return t
    return moment


@dataclass(frozen=True)
class KeyFrames:
    """Where the source's key frames fall, and whether the screen shows the same picture
    at two times (judged on the visual pass's samples, taken at `sample_times`).

    A picture costs every frame decoded since the key frame before it: one frame at a
    key frame, up to a whole group of pictures (10 s of 720p H.264 here, 0.18 CPU-s)
    anywhere else. So a span's picture is taken at the key frame, or failing that at the
    earliest moment, where the screen already shows what it shows at the planned moment.
    """

    times: np.ndarray
    unchanged: Callable[[float, float], bool]
    sample_times: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def before(self, moment: float, earliest: float) -> float:
        """The latest key frame in [earliest, moment] if the screen shows there what it
        shows at `moment` (no bullet appeared since), else `moment`."""
        last = int(np.searchsorted(self.times, moment, side="right")) - 1
        if last < 0 or self.times[last] < earliest:
            return moment
        key = float(self.times[last])
        return key if self.unchanged(key, moment) else moment

    def cheapest(self, moment: float, earliest: float) -> float:
        """The key frame `before` finds; without one, the earliest sample time in
        [earliest, moment] from which the screen stays as it is at `moment` (nearer the
        key frame before it, fewer frames to decode), else `moment`."""
        key = self.before(moment, earliest)
        if key != moment:
            return key
        steps = self.sample_times[(self.sample_times >= earliest) & (self.sample_times < moment)]
        best = moment
        for t in steps[::-1]:
            if not self.unchanged(float(t), moment):
                break
            best = float(t)
        return best


# A frame decoded with the non-reference frames skipped may come this long after the time
# asked for; a later one means the stream marks too many frames as non-reference (then
# that time is decoded again, every frame).
_SKIPPED_FRAMES_SLACK = 0.5


def grab_frames(
    path: Path, times: Sequence[float], key_times: Sequence[float] | np.ndarray = ()
) -> Iterator[tuple[float, np.ndarray]]:
    """(time, BGR frame) for each requested time in ascending order, decoded from `path`.

    Seeks when a key frame lies between the decoder and the next time (decoding forward
    would pass it anyway); without the key frames' times, when the next time is more
    than 5 s ahead: decoding forward through a few seconds is cheaper than a seek back
    to the previous key frame.

    Decoding and the colour conversion run on this one thread. Frame threads decode
    frames past the one wanted and spend CPU time the caller cannot see: on the one-hour
    benchmark lecture's 192 pictures, 13.2 CPU-s threaded (1.9 s of it on the calling
    thread) against 10.6 s on one thread. Decoding skips the frames no other frame
    refers to (most B-frames), so a picture may come a frame or two after the time asked
    for: the 28 of those pictures not at a key frame took 3.1 CPU-s instead of 5.5.
    """
    keys = np.asarray(key_times, dtype=np.float64)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        stream.codec_context.thread_count = 1
        position = -1e9
        frames = None
        for wanted in sorted(times):
            if frames is None or _seek_ahead(wanted, position, keys):
                frames = _decode_from(container, stream, wanted, skip_non_reference=True)
            picked, position = _first_frame_at(frames, wanted, position)
            if picked is not None and position - wanted > _SKIPPED_FRAMES_SLACK:
                picked = None  # skipped past the moment: decode it again, every frame
            if picked is None:
                frames = _decode_from(container, stream, wanted, skip_non_reference=False)
                picked, position = _first_frame_at(frames, wanted, -1e9)
                frames = None  # seek afresh (and skip again) for the next time
            if picked is None:
                return
            yield wanted, picked.to_ndarray(format="bgr24", threads=1)


def _decode_from(container: Any, stream: Any, wanted: float, *,
                 skip_non_reference: bool) -> Iterator[Any]:
    stream.codec_context.skip_frame = "NONREF" if skip_non_reference else "DEFAULT"
    container.seek(max(0, int(wanted / stream.time_base)), stream=stream, backward=True)
    return container.decode(stream)


def _time(frame: Any, fallback: float) -> float:
    return float(frame.time) if frame.time is not None else fallback


def _first_frame_at(frames: Iterator[Any], wanted: float, position: float) -> tuple[Any, float]:
    """The first frame at or after `wanted` (None at the stream's end), and the time
    the decoder reached."""
    for frame in frames:
        position = _time(frame, position)
        if position + 1e-3 >= wanted:
            return frame, position
    return None, position


def _seek_ahead(wanted: float, position: float, keys: np.ndarray) -> bool:
    if not keys.size:
        return wanted - position > 5.0
    before = int(np.searchsorted(keys, wanted + 1e-3, side="right")) - 1
    return before >= 0 and keys[before] > position + 1e-3


def screen_crop(frame: np.ndarray, screen: Region, camera: Region | None) -> np.ndarray:
    """The screen region of a frame, with the camera inset painted in the crop's median."""
    h, w = frame.shape[:2]
    x0, y0 = int(round(screen.x * w)), int(round(screen.y * h))
    x1 = int(round((screen.x + screen.width) * w))
    y1 = int(round((screen.y + screen.height) * h))
    crop = np.array(frame[max(0, y0) : max(y1, y0 + 1), max(0, x0) : max(x1, x0 + 1)])
    if camera is not None and not camera.is_empty and crop.size:
        cx0 = int(round(camera.x * w)) - x0 - 4
        cy0 = int(round(camera.y * h)) - y0 - 4
        cx1 = int(round((camera.x + camera.width) * w)) - x0 + 4
        cy1 = int(round((camera.y + camera.height) * h)) - y0 + 4
        ch, cw = crop.shape[:2]
        cx0, cy0, cx1, cy1 = max(cx0, 0), max(cy0, 0), min(cx1, cw), min(cy1, ch)
        if cx1 > cx0 and cy1 > cy0:
            # the background's colour, from every 8th pixel (the median of all of them
            # cost 3 ms a picture)
            fill = np.median(crop[::8, ::8].reshape(-1, 3), axis=0).astype(crop.dtype)
            crop[cy0:cy1, cx0:cx1] = fill
    return crop


@dataclass(frozen=True)
class SlideImages:
    """One OCR result per span, and how many pictures OCR actually read."""

    reads: list[SlideRead]
    ocr_reads: int
    readers_used: int = 1  # OCR engines that read at least one picture
    part_reads: int = 0  # pictures of those read only where they differ from an earlier one
    key_frame_grabs: int = 0  # spans whose picture was taken at a key frame of the source
    ocr_cpu_seconds: float = 0.0  # the OCR engines' CPU time
    picture_cpu_seconds: float = 0.0  # taking the pictures: decoding, cropping, comparing


def read_slide_images(
    path: Path,
    spans: Sequence[tuple[float, float]],
    screen: Region,
    camera: Region | None,
    *,
    not_blank: Callable[[float], bool] | None = None,
    key_frames: KeyFrames | None = None,
    engine: OcrEngine | None = None,
    readers: int = 2,
    progress: Callable[[float], None] | None = None,
) -> SlideImages:
    """OCR one frame per span, each distinct picture once; spans with nothing legible
    come back with no lines.

    A picture seen before (the lecturer went back to a slide) takes the earlier read;
    a build step whose next span only adds to it takes the read of the fuller picture
    (`highlights.slide_images`), so a build of five bullets costs one read, not five.
    The pictures are read by `readers` OCR engines (`highlights.ocr_readers`): the
    first beside the transcriber, the others once it is done; `engine` is the first.
    """
    began_cpu = time.thread_time()
    planned = [read_moment(a, b, not_blank) for a, b in spans]
    moments = planned
    if key_frames is not None:
        # anywhere in the span once the change has settled: the screen is checked to show
        # what it shows at the planned moment, so a build is as complete there
        moments = [key_frames.cheapest(m, a + min(_PICTURE_SETTLE, (b - a) / 2))
                   for (a, b), m in zip(spans, planned, strict=True)]
    by_moment = {m: i for i, m in enumerate(moments)}
    picture_of: list[int | None] = [None for _ in spans]  # index into `pictures`
    pictures: list[Thumbnail] = []  # each distinct picture, read once
    parts: list[bool] = []  # per picture: only its part that differs from an earlier one read
    readers: OcrReaders[int] = OcrReaders(engine, readers=readers)

    def settle(indices: list[int], crop: np.ndarray, thumb: Thumbnail) -> None:
        """Give the spans showing this picture its read: an earlier picture's, or a new one."""
        found, like = closest(pictures, thumb)
        if found is None:
            found = len(pictures)
            pictures.append(thumb)
            readers.submit(found, crop, like=like)
            parts.append(like is not None)
        for i in indices:
            picture_of[i] = found

    # The latest picture, not read yet: the next one may only add to it.
    pending: tuple[list[int], np.ndarray, Thumbnail] | None = None
    try:
        for done, (moment, frame) in enumerate(
            grab_frames(path, moments, key_frames.times if key_frames else ()), start=1
        ):
            crop = screen_crop(frame, screen, camera)
            thumb = Thumbnail.of(crop)
            index = by_moment[moment]
            if pending is not None and only_adds(pending[2], thumb):
                pending = ([*pending[0], index], crop, thumb)
            else:
                if pending is not None:
                    settle(*pending)
                pending = ([index], crop, thumb)
            if progress is not None:
                progress(done / max(1, len(spans)))
        if pending is not None:
            settle(*pending)
    finally:
        picture_cpu = time.thread_time() - began_cpu  # before waiting for the readers
        texts = readers.results()
    lines = [() if k is None else texts[k] for k in picture_of]
    reads = [SlideRead(a, b, found) for (a, b), found in zip(spans, lines, strict=True)]
    keys = set(key_frames.times.tolist()) if key_frames is not None else set()
    at_key_frames = sum(1 for a, b in zip(planned, moments, strict=True) if a != b and b in keys)
    return SlideImages(reads, len(pictures), readers.readers_used, sum(parts), at_key_frames,
                       ocr_cpu_seconds=readers.cpu_seconds, picture_cpu_seconds=picture_cpu)


def _band(line: OcrLine) -> str | None:
    if line.top < EDGE_BAND:
        return "top"
    if line.bottom > 1.0 - EDGE_BAND:
        return "bottom"
    return None


def _legible(line: OcrLine) -> bool:
    letters = sum(ch.isalpha() for ch in line.text)
    return line.confidence >= MIN_LINE_CONFIDENCE and letters >= 2


def _title_lines(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """The top line(s) of the largest type in the upper part of the slide."""
    upper = [ln for ln in lines if ln.top < TITLE_ZONE]
    if not upper:
        return []
    tallest = max(ln.height for ln in upper)
    body_heights = [ln.height for ln in lines if ln.top >= TITLE_ZONE] or [tallest]
    big = [ln for ln in upper if ln.height >= 0.75 * tallest]
    big.sort(key=lambda ln: ln.top)
    if tallest < 1.1 * float(np.median(body_heights)) and big[0].top > 0.2:
        return []  # nothing stands out as a heading: a text-only slide
    title = [big[0]]
    for line in big[1:]:  # a heading wrapped over two lines
        if line.top - title[-1].bottom < 0.8 * tallest:
            title.append(line)
        else:
            break
    return title


def build_deck(
    reads: Sequence[SlideRead], vocabulary: set[str] | None = None
) -> tuple[list[Slide], bool]:
    """Deck-level reading of the OCR'd slides: (slides, whether it has section labels)."""
    words = set(vocabulary or ())
    for read in reads:  # words the OCR did read with spaces count as known words too
        for line in read.lines:
            if " " in line.text:
                words.update(w.lower() for w in re.findall(r"[A-Za-z]+", line.text))

    legible = [[ln for ln in r.lines if _legible(ln)] for r in reads]
    with_text = [ls for ls in legible if ls]
    band_counts: Counter[str] = Counter()
    for lines in with_text:
        band_counts.update({normalize(ln.text) for ln in lines if _band(ln)})
    boilerplate = {
        text
        for text, count in band_counts.items()
        if len(with_text) >= 3 and count >= BOILERPLATE_SHARE * len(with_text)
    }

    structured: list[tuple[str, str, list[OcrLine]]] = []  # (title, section label, body)
    for lines in legible:
        kept = [
            ln
            for ln in lines
            if not _SLIDE_NUMBER.match(ln.text.strip())
            and not (_band(ln) and normalize(ln.text) in boilerplate)
        ]
        title_lines = _title_lines(kept)
        title = " ".join(ln.text for ln in title_lines)
        rest = [ln for ln in kept if ln not in title_lines]
        labels = [ln for ln in rest if _band(ln)]
        label = labels[-1].text if labels else ""
        structured.append((title, label, rest))

    has_sections = _has_sections([normalize(label) for _, label, _ in structured])
    slides: list[Slide] = []
    for read, (title, label, rest) in zip(reads, structured, strict=True):
        section = respace(label, words) if has_sections else ""
        body = [ln for ln in rest if not (has_sections and ln.text == label)]
        kept_lines = tuple(
            SlideLine(respace(ln.text, words), round(ln.confidence, 3)) for ln in body
        )
        all_conf = [ln.confidence for ln in read.lines if _legible(ln)]
        slide = Slide(
            start=read.start,
            end=read.end,
            title=respace(title, words),
            lines=kept_lines,
            confidence=float(np.mean(all_conf)) if all_conf else 0.0,
            section=section,
        )
        slides.append(slide)
    return merge_builds(slides), has_sections


def _has_sections(labels: Sequence[str]) -> bool:
    """Labels name sections when most slides carry one and it changes in runs."""
    present = [lab for lab in labels if lab]
    if len(present) < 3 or len(present) < 0.5 * len(labels):
        return False
    distinct = set(present)
    if len(distinct) < 2:
        return False
    runs = sum(1 for a, b in zip(labels, labels[1:], strict=False) if a and a == b)
    # a slide-number-like label changes on every slide; a section label repeats
    return runs >= max(1, len(present) // 4) and len(distinct) < 0.8 * len(present)


def merge_builds(slides: Sequence[Slide]) -> list[Slide]:
    """Join consecutive slides with one title whose body only grew (a bullet build)."""
    merged: list[Slide] = []
    for slide in slides:
        if merged:
            last = merged[-1]
            same_title = normalize(last.title) == normalize(slide.title) and (
                last.title or last.lines
            )
            before = {normalize(ln.text) for ln in last.lines}
            after = {normalize(ln.text) for ln in slide.lines}
            if same_title and last.section == slide.section and before <= after:
                merged[-1] = Slide(
                    start=last.start,
                    end=slide.end,
                    title=slide.title or last.title,
                    lines=slide.lines,
                    confidence=max(last.confidence, slide.confidence),
                    section=slide.section,
                )
                continue
        merged.append(slide)
    return merged


def read_deck(
    path: Path,
    slide_changes: Sequence[float],
    duration: float,
    screen: Region,
    camera: Region | None,
    *,
    vocabulary: set[str] | None = None,
    not_blank: Callable[[float], bool] | None = None,
    key_frames: KeyFrames | None = None,
    progress: Callable[[float], None] | None = None,
) -> SlideDeck:
    """Read every distinct slide of a recording and return the deck."""
    began = time.monotonic()
    spans = slide_spans(slide_changes, duration)
    images = run_at_low_priority(
        lambda: read_slide_images(path, spans, screen, camera, not_blank=not_blank,
                                  key_frames=key_frames, progress=progress),
        name="slide-ocr",
    )
    slides, has_sections = build_deck(images.reads, vocabulary)
    deck = SlideDeck(
        slides=[s for s in slides if s.title or s.lines],
        reads=len(images.reads),
        ocr_reads=images.ocr_reads,
        ocr_readers=images.readers_used,
        part_reads=images.part_reads,
        key_frame_grabs=images.key_frame_grabs,
        seconds=time.monotonic() - began,
        ocr_cpu_seconds=images.ocr_cpu_seconds,
        picture_cpu_seconds=images.picture_cpu_seconds,
        has_sections=has_sections,
    )
    if not deck.slides:
        deck.notes.append("slide text: OCR found no legible text on the screen")
    return deck
