"""Which slide images need reading: the same slide shown again, and a build's earlier steps.

OCR is the costly part of reading slides (0.5-0.8 CPU-s a slide), and lectures show
much of the same picture more than once: a lecturer goes back to an earlier slide to
answer a question, a recap repeats a section, a bullet build reveals one line at a time
and the slide-change detector may count each step. Comparing two pictures costs well
under a millisecond, so each screen crop is compared with the ones already read first:

- `same_picture`: nothing legible changed, so the earlier read stands;
- `only_adds`: every change lies where the earlier picture was plain background (a
  bullet appearing, an underline drawn), so the later picture holds all the earlier one
  said and one read of it serves both.

The comparison runs on a small grey copy (`Thumbnail`): text strokes survive at a
quarter of 720p, compression noise and a cursor of a few pixels do not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

# The grey copy's long side: enough for a line of body text to leave a visible trace.
THUMB_SIDE = 320
# Grey levels (0-255) a pixel must change by to count as changed (codec noise stays below).
CHANGE_LEVEL = 40
# Changed pixels, as a share of the picture, at or below which nothing legible changed.
# Measured on rendered slides at 360p-1080p: JPEG quality 30 against 90 changes none;
# one digit of body text ("1" to "7") changes 0.026-0.030%, a slide number 0.005-0.010%.
SAME_SHARE = 0.00008
# Gradient (Sobel magnitude) above which a pixel of the earlier picture holds detail.
DETAIL_LEVEL = 60.0
# Share of the changed area that may hold detail in the earlier picture and still be
# an addition (anti-aliased edges of neighbouring text touch the changed area).
ADD_DETAIL_SHARE = 0.02


@dataclass(frozen=True)
class Thumbnail:
    grey: np.ndarray  # uint8, long side THUMB_SIDE
    detail: np.ndarray  # bool: where this picture has strokes or edges

    @classmethod
    def of(cls, image_bgr: np.ndarray) -> Thumbnail:
        height, width = image_bgr.shape[:2]
        scale = THUMB_SIDE / max(height, width, 1)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.cvtColor(cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA),
                            cv2.COLOR_BGR2GRAY)
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
        detail = cv2.dilate((np.hypot(gx, gy) > DETAIL_LEVEL).astype(np.uint8), None) > 0
        return cls(grey, detail)


def _changed(a: Thumbnail, b: Thumbnail) -> np.ndarray | None:
    if a.grey.shape != b.grey.shape:
        return None
    diff = cv2.absdiff(a.grey, b.grey)
    return diff > CHANGE_LEVEL


def same_picture(a: Thumbnail, b: Thumbnail) -> bool:
    """Nothing legible differs between the two pictures."""
    changed = _changed(a, b)
    return changed is not None and _nothing_legible(changed)


def _nothing_legible(changed: np.ndarray) -> bool:
    return bool(changed.mean() <= SAME_SHARE)


def only_adds(earlier: Thumbnail, later: Thumbnail) -> bool:
    """`later` is `earlier` with more drawn on its plain background (a build step)."""
    changed = _changed(earlier, later)
    if changed is None or not changed.any():
        return changed is not None
    # what disappeared or was redrawn lies on the earlier picture's strokes
    return float(earlier.detail[changed].mean()) <= ADD_DETAIL_SHARE


# A changed area whose bounding box covers at most this share of the picture is read on
# its own (`changed_box`); a larger change is a new picture, read whole.
PART_AREA = 0.25


@dataclass(frozen=True)
class Box:
    """A rectangle in shares (0-1) of a picture's width and height."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def area(self) -> float:
        return max(0.0, self.right - self.left) * max(0.0, self.bottom - self.top)

    def overlaps(self, left: float, top: float, right: float, bottom: float) -> bool:
        return left < self.right and right > self.left and top < self.bottom and bottom > self.top

    def grown(self, by_x: float, by_y: float) -> Box:
        return Box(max(0.0, self.left - by_x), max(0.0, self.top - by_y),
                   min(1.0, self.right + by_x), min(1.0, self.bottom + by_y))

    def union(self, left: float, top: float, right: float, bottom: float) -> Box:
        return Box(min(self.left, left), min(self.top, top),
                   max(self.right, right), max(self.bottom, bottom))


def changed_box(earlier: Thumbnail, later: Thumbnail) -> Box | None:
    """Where `later` differs from `earlier` (a slide number, a highlighted line, an
    annotation), when that is a small part of the picture; None when the pictures differ
    too widely (or not at all) for a read of the part to serve."""
    changed = _changed(earlier, later)
    return None if changed is None else _small_box(changed)


def _small_box(changed: np.ndarray) -> Box | None:
    if not changed.any():
        return None
    rows = np.flatnonzero(changed.any(axis=1))
    cols = np.flatnonzero(changed.any(axis=0))
    height, width = changed.shape
    box = Box(cols[0] / width, rows[0] / height, (cols[-1] + 1) / width, (rows[-1] + 1) / height)
    return box if box.area <= PART_AREA else None


def closest(pictures: Sequence[Thumbnail], later: Thumbnail) -> tuple[int | None, tuple[int, Box] | None]:
    """`later` against every picture before it, one comparison each: (the first that is
    the same picture, or None; failing that, the one it differs from in the smallest
    part, with that part, or None when it differs widely from all of them)."""
    smallest: tuple[int, Box] | None = None
    for index, earlier in enumerate(pictures):
        changed = _changed(earlier, later)
        if changed is None:
            continue
        if _nothing_legible(changed):
            return index, None
        box = _small_box(changed)
        if box is not None and (smallest is None or box.area < smallest[1].area):
            smallest = (index, box)
    return None, smallest
