"""Slide changes on the screen region, bullet builds excluded.

PySceneDetect's ContentDetector scores every pair of consecutive samples (mean luma
change of the screen crop) and proposes candidates. It runs on the screen region only,
with the camera masked out: a webcam's constant change would otherwise drown the one
moment a slide changes.

A candidate is then checked: a slide change *replaces* what was on screen (the old
title and text are gone), a bullet build only *adds* to it (everything that was there
stays). So the share of the old slide's ink (text strokes, lines) that changed
decides. Changes closer than `min_spacing` to the previous one are not counted (a
transition spread over two samples is one change).

Blank screens in between are looked through: slide A, black, slide B counts as one
change to B when the screen comes back, and none if A comes back.
"""

from __future__ import annotations

import cv2
import numpy as np
from scenedetect import ContentDetector, FrameTimecode

from highlights.frame_stats import blank_mask
from highlights.types import Region
from highlights.visual import VisualSamples

# ContentDetector threshold on the luma-only score (mean |change| in 0-255 levels). Low
# on purpose: a slide is mostly background and its text is thin, so a real change
# moves the mean by a few levels; the ink test below removes builds.
CANDIDATE_THRESHOLD = 1.5
# A change replaces the slide when at least this share of its ink changed.
REPLACED_INK = 0.3
_INK_EDGE = 40  # morphological gradient (gray levels) that marks text strokes
_CHANGED_LEVEL = 30
_MIN_CHANGED_SHARE = 0.002  # of the crop; less is compression noise or a cursor


def _crop_box(region: Region, height: int, width: int) -> tuple[int, int, int, int]:
    x0 = int(round(region.x * width))
    y0 = int(round(region.y * height))
    x1 = int(round((region.x + region.width) * width))
    y1 = int(round((region.y + region.height) * height))
    return max(0, x0), max(0, y0), min(width, max(x1, x0 + 1)), min(height, max(y1, y0 + 1))


class _ScreenCrops:
    """Screen crops of the samples with the camera (and a guard band) painted flat."""

    def __init__(self, visual: VisualSamples, screen: Region, camera: Region | None) -> None:
        self.visual = visual
        h, w = visual.height, visual.width
        self.x0, self.y0, self.x1, self.y1 = _crop_box(screen, h, w)
        self.keep = np.ones((self.y1 - self.y0, self.x1 - self.x0), dtype=bool)
        if camera is not None and not camera.is_empty:
            cx0, cy0, cx1, cy1 = _crop_box(camera, h, w)
            gx0, gy0 = max(cx0 - 2, self.x0), max(cy0 - 2, self.y0)
            gx1, gy1 = min(cx1 + 2, self.x1), min(cy1 + 2, self.y1)
            if gx1 > gx0 and gy1 > gy0:
                self.keep[gy0 - self.y0 : gy1 - self.y0, gx0 - self.x0 : gx1 - self.x0] = False

    def crop(self, frames: np.ndarray) -> np.ndarray:
        crops = np.array(frames[:, self.y0 : self.y1, self.x0 : self.x1])
        crops[:, ~self.keep] = 0
        return crops

    def __getitem__(self, i: int) -> np.ndarray:
        return self.crop(self.visual.read(i, i + 1))[0]

    def all(self):
        """Every crop in order, read block by block."""
        for _, block in self.visual.blocks():
            yield from self.crop(block)


def _ink(gray: np.ndarray) -> np.ndarray:
    gradient = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    return gradient >= _INK_EDGE


def replaced_share(before: np.ndarray, after: np.ndarray, keep: np.ndarray) -> tuple[float, float]:
    """(share of `before`'s ink that changed, share of the crop that changed)."""
    changed = (cv2.absdiff(before, after) >= _CHANGED_LEVEL) & keep
    changed_share = float(changed.sum()) / max(1, int(keep.sum()))
    ink = _ink(before) & keep
    if not ink.any():
        # nothing was on screen before (a blank slide): anything appearing is new content
        return (1.0 if changed_share >= _MIN_CHANGED_SHARE else 0.0), changed_share
    # dilate the change a pixel: resampling smears stroke edges
    changed = cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return float((ink & changed).sum()) / float(ink.sum()), changed_share


def _candidates(crops: _ScreenCrops, fps: float, threshold: float) -> list[int]:
    detector = ContentDetector(threshold=threshold, min_scene_len=0, luma_only=True)
    found: list[int] = []
    for i, crop in enumerate(crops.all()):
        bgr = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        for cut in detector.process_frame(FrameTimecode(i, fps=fps), bgr):
            found.append(int(cut.frame_num))
    return found


def detect_slide_changes(
    visual: VisualSamples,
    screen: Region,
    camera: Region | None = None,
    *,
    min_spacing: float = 3.0,
    threshold: float = CANDIDATE_THRESHOLD,
    replaced_ink: float = REPLACED_INK,
) -> list[float]:
    """Times (seconds) at which the slide on `screen` was replaced by another."""
    n = visual.count
    if n < 2 or screen.is_empty:
        return []
    crops = _ScreenCrops(visual, screen, camera)
    blank = blank_mask(visual, screen, camera)
    times = visual.times
    changes: list[float] = []
    last_accepted = -np.inf
    for i in _candidates(crops, visual.sample_fps, threshold):
        if blank[i]:
            continue  # going blank is not a slide change; coming back may be
        # compare the last non-blank sample before with one a sample later (lets a
        # transition or fade settle) that is not blank
        b = i - 1
        while b >= 0 and blank[b]:
            b -= 1
        if b < 0:
            continue
        a = i + 1 if i + 1 < n and not blank[i + 1] else i
        share, changed = replaced_share(crops[b], crops[a], crops.keep)
        if changed < _MIN_CHANGED_SHARE or share < replaced_ink:
            continue
        t = float(times[i - 1] + times[i]) / 2
        if t - last_accepted < min_spacing:
            continue
        changes.append(round(t, 3))
        last_accepted = t
    return changes
