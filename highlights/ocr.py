"""Offline OCR of slide images: RapidOCR's PP-OCRv4 detector and recogniser on onnxruntime.

Why this engine: `rapidocr-onnxruntime` carries its models inside the wheel (about 15 MB),
so nothing is downloaded at run time, and it runs on onnxruntime, which the machine's
CPU wheels cover. The alternatives that install from PyPI need either a system binary
(pytesseract needs Debian's tesseract and its language data), PyTorch plus a model hub
download (EasyOCR, docTR, TrOCR), or Paddle itself (PaddleOCR). PP-OCRv4's recogniser also
reads the anti-aliased, coloured text of screen captures better than Tesseract's LSTM,
which wants binarised print.

The recogniser looks at each detected line scaled to 48 px high. Slide body text in a
360p or 540p screen share is 15-25 px high, and at that size the model runs words
together ("Ahashfunctionmaps..."); scaling the crop up so its short side is about 800 px
first gives it enough pixels to see the spaces (measured on generated 540p slides: words
run together at 1x, read with spaces at 1.5x). `respace` mends what still runs together.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

ENGINE_NAME = "rapidocr-ppocrv4"
# The crop is scaled so its short side is about this many pixels (never down, at most 2x).
_TARGET_SHORT_SIDE = 800
_MAX_UPSCALE = 2.0
# The detector finds lines on a smaller copy; the recogniser still reads each line from
# the full-size image. Text on a slide is sized to the slide's height, so the copy's short
# side is what decides whether the smallest labels are still found: 540 px keeps a label
# of 1/50 of the slide's height about 11 px tall (at 414 px, 736 wide for 16:9, the
# 7-px diagram labels of a 360p slide were lost). The long side is capped too. A 16:9
# slide is detected at 960 x 540 as before; a 4:3 one, or a side-by-side crop, at about
# 700 x 540 instead of 960 x 720 or more, half the pixels: half the detector's CPU and much of
# its transient memory (RapidOCR's default, "min" side 736, upsamples every crop again).
_DETECTOR_SHORT_SIDE = 540
_DETECTOR_LONG_SIDE = 960
OCR_THREADS = 1
# Lines go through the recogniser one at a time. RapidOCR's default batch of six pads
# every line of a batch to the widest one's width, and a slide mixes long lines with
# short ones (slide numbers, labels): on 720p slides one at a time took 0.27 CPU-s
# where batches of six took 0.66 s for the same seven lines, with the same text.
_RECOGNISER_BATCH = 1
# Each line is recognised at its own width (48 px high, as wide as its text). RapidOCR
# pads every line to at least 320 px, so a slide number or a two-word label cost as much
# as a line of 320 px. Measured on the one-hour benchmark lecture's 149 pictures (30 read
# whole, 119 in part): OCR 17.5 CPU-s padded, 14.2-15.0 s at their own widths, and the
# short labels read better ("bastille" where padding added a full stop, "dynamic pro"
# where it ran the words together).
_RECOGNISER_MIN_WIDTH = 48


@dataclass(frozen=True)
class OcrLine:
    """One line of text with its box in the image, normalised to 0-1."""

    text: str
    confidence: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def height(self) -> float:
        return max(0.0, self.bottom - self.top)


def detector_side(height: int, width: int) -> int:
    """The long side of the detector's copy of a height x width image (never enlarged)."""
    long_side, short_side = max(height, width), max(1, min(height, width))
    return int(min(_DETECTOR_LONG_SIDE, long_side, long_side * _DETECTOR_SHORT_SIDE / short_side))


_loading = threading.Lock()


@contextmanager
def _sessions_with_arena() -> Iterator[None]:
    """RapidOCR's ONNX sessions, made meanwhile, keep onnxruntime's memory arena on.

    RapidOCR turns the arena off, so every run allocates its tensors afresh and the
    kernel hands out (and zeroes) new pages for them. With the arena, the same reads of
    the one-hour benchmark lecture's 149 pictures took 12.9-13.4 CPU-s against
    13.9-15.2 s (three alternated pairs, one engine), peak memory +20 MB; in two pairs of
    `highlights process` on its first 10 minutes, OCR 4.51 and 4.71 CPU-s against 4.73
    and 4.85, the largest process 905-913 MB against 884-905. The arena goes with the
    engine, which is not kept after a recording. RapidOCR offers no option for it, so
    its session options are amended while the engine loads (one load at a time)."""
    from rapidocr_onnxruntime.utils import infer_engine

    sessions = infer_engine.OrtInferSession
    with _loading:  # the original is read under the lock: another load may be amending it
        original = sessions.__dict__["_init_sess_opts"]

        def with_arena(config: dict[str, Any]) -> Any:
            options = original.__func__(config)
            options.enable_cpu_mem_arena = True
            return options

        sessions._init_sess_opts = staticmethod(with_arena)
        try:
            yield
        finally:
            sessions._init_sess_opts = original


class OcrUnavailable(RuntimeError):
    """The OCR engine cannot be loaded on this machine (a broken install)."""


class OcrEngine:
    """A loaded RapidOCR (three ONNX sessions, about 0.2 s to load)."""

    _instance: OcrEngine | None = None
    _lock = threading.Lock()

    def __init__(self, threads: int) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise OcrUnavailable(f"OCR engine not installed: {exc}") from None
        with _sessions_with_arena():
            self._ocr: Any = RapidOCR(
                intra_op_num_threads=threads, inter_op_num_threads=1, print_verbose=False
            )
        self._ocr.text_rec.rec_batch_num = _RECOGNISER_BATCH
        channels, height, _padded = self._ocr.text_rec.rec_image_shape
        self._ocr.text_rec.rec_image_shape = [channels, height, _RECOGNISER_MIN_WIDTH]
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

        detector = self._ocr.text_det
        self._detector_side = _DETECTOR_LONG_SIDE  # set for each image in read()
        detector.get_preprocess = lambda _longest: DetPreProcess(
            self._detector_side, "max", detector.mean, detector.std
        )
        self._calls = threading.Lock()  # onnxruntime sessions are shared: one image at a time

    @classmethod
    def for_recording(cls) -> OcrEngine:
        """A fresh engine for one recording's slides, on one thread: OCR runs beside
        transcription, which keeps the other cores busy, and one thread costs a fifth
        less CPU per slide than two (0.56 s against 0.69 s on a 720p slide here).

        Not kept afterwards: loading takes about 0.2 s, while the sessions and the
        buffers their reads leave behind hold 250-350 MB (measured on 720p slides)
        that the later stages of the job need more."""
        return cls(threads=OCR_THREADS)

    @classmethod
    def shared(cls) -> OcrEngine:
        """One engine kept for the whole process, for tests and benchmarks that read
        many decks."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls(threads=OCR_THREADS)
            return cls._instance

    def read(self, image_bgr: np.ndarray) -> list[OcrLine]:
        """Lines of text in a BGR image, top to bottom, then left to right."""
        height, width = image_bgr.shape[:2]
        if height < 8 or width < 8:
            return []
        scale = min(_MAX_UPSCALE, max(1.0, _TARGET_SHORT_SIDE / min(height, width)))
        image = image_bgr
        if scale > 1.01:
            image = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        with self._calls:
            self._detector_side = detector_side(*image.shape[:2])
            result, _ = self._ocr(image, use_cls=False)
        lines: list[OcrLine] = []
        h, w = image.shape[:2]
        for box, text, confidence in result or []:
            xs = [float(p[0]) for p in box]
            ys = [float(p[1]) for p in box]
            cleaned = _BULLET.sub("", " ".join(str(text).split()))
            if not cleaned:
                continue
            lines.append(
                OcrLine(
                    text=cleaned,
                    confidence=float(confidence),
                    left=min(xs) / w,
                    top=min(ys) / h,
                    right=max(xs) / w,
                    bottom=max(ys) / h,
                )
            )
        lines.sort(key=lambda ln: (round(ln.top, 2), ln.left))
        return lines


# A bullet glyph the detector took in with its line's text (it does at the smaller
# detection sizes, where the gap between bullet and text is a few pixels): not text.
_BULLET = re.compile(r"^(?:[•●◦▪▫■□►▶‣⁃∙·○◆◇➢➤✓✔*]+\s*|[-–—]+\s+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD = re.compile(r"[A-Za-z]+")


def respace(text: str, vocabulary: set[str]) -> str:
    """Put back the spaces OCR dropped, where the pieces are known words.

    "BinarySearchTrees" splits at its capitals; "loadfactor" splits when "load" and
    "factor" are words of the lecture (spoken, or read with spaces elsewhere on the slides).
    A run that does not split into known words is left as it was.
    """
    out: list[str] = []
    for token in text.split(" "):
        parts = _CAMEL.split(token) if len(token) > 6 else [token]
        for part in parts:
            out.append(_split_known(part, vocabulary))
    return " ".join(p for p in out if p)


def _split_known(token: str, vocabulary: set[str]) -> str:
    match = _WORD.search(token)
    core = match.group(0) if match else ""
    if len(core) < 5 or _known(core.lower(), vocabulary):
        return token
    pieces = _segment(core.lower(), vocabulary)
    if pieces is None or len(pieces) < 2:
        return token
    # keep the original letters' case and whatever punctuation surrounds the word
    split, i = [], 0
    for piece in pieces:
        split.append(core[i : i + len(piece)])
        i += len(piece)
    return token[: match.start()] + " ".join(split) + token[match.end() :]  # type: ignore[union-attr]


def _known(word: str, vocabulary: set[str]) -> bool:
    """A word of the lecture, or an inflection of one ("algorithms" when "algorithm" is)."""
    if word in vocabulary:
        return True
    return any(
        word.endswith(suffix) and word[: -len(suffix)] in vocabulary
        for suffix in ("s", "es", "ed", "d", "ing", "ly", "er")
    )


def _segment(word: str, vocabulary: set[str]) -> list[str] | None:
    """Fewest known words that spell `word` exactly (dynamic programming), or None."""
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            prefix = best[start]
            piece = word[start:end]
            if prefix is None:
                continue
            if (len(piece) > 1 and piece in vocabulary) or piece == "a":
                candidate = [*prefix, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[n]
