"""Frame statistics shared by the visual analyses: is the screen blank, did it change?

A sampled frame is blank when its picture is uniform (a black, white or single-colour
screen): the standard deviation of its luma is tiny, or it is very dark with little
detail. When the frame has a presenter camera, only the screen part is judged (a
talking head next to a black screen share is still a blank screen). Silence detection,
layout analysis and slide-change detection all use the same rule.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from highlights.slide_images import CHANGE_LEVEL
from highlights.types import Region
from highlights.visual import VisualSamples

# Blank screen: luma (0-255) statistics of the judged area.
UNIFORM_STD = 4.0  # any single colour, including white and a projector's blue
DARK_MEAN = 20.0  # black with a little noise or a tiny logo
DARK_STD = 12.0


def _area_slices(region: Region | None, height: int, width: int) -> tuple[slice, slice] | None:
    if region is None or region.is_empty:
        return None
    x0 = int(np.floor(region.x * width))
    y0 = int(np.floor(region.y * height))
    x1 = int(np.ceil((region.x + region.width) * width))
    y1 = int(np.ceil((region.y + region.height) * height))
    # trim a pixel at each side: resampling blends the neighbouring area into the border
    return slice(min(y0 + 1, y1), max(y1 - 1, y0 + 1)), slice(min(x0 + 1, x1), max(x1 - 1, x0 + 1))


def blank_mask(visual: VisualSamples, screen: Region | None = None, camera: Region | None = None) -> np.ndarray:
    """Boolean per sample: is the screen blank?

    Judged on `screen` minus `camera`; on the whole frame when there is no screen
    region (camera-only recordings) or when screen and camera are both absent.
    """
    n, height, width = visual.frames.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    keep = judged_area(screen, camera, height, width)
    if keep.all():
        return _blank_rule(np.asarray(visual.luma_mean), np.asarray(visual.luma_std))
    mean = np.empty(n, dtype=np.float32)
    std = np.empty(n, dtype=np.float32)
    for i, block in visual.blocks():
        kept = block[:, keep].astype(np.float32)
        mean[i : i + len(block)] = kept.mean(axis=1)
        std[i : i + len(block)] = kept.std(axis=1)
    return _blank_rule(mean, std)


def judged_area(screen: Region | None, camera: Region | None, height: int, width: int) -> np.ndarray:
    """Boolean mask of a sample: the screen minus the camera (grown a little, so its
    blurred border never counts); the whole frame without a usable screen region."""
    keep = np.zeros((height, width), dtype=bool)
    area = _area_slices(screen, height, width)
    if area is None:
        keep[:] = True
        return keep
    keep[area] = True
    cam = _area_slices(camera, height, width)
    if cam is not None:
        cy, cx = cam
        keep[max(cy.start - 2, 0) : cy.stop + 2, max(cx.start - 2, 0) : cx.stop + 2] = False
    if keep.sum() < 0.01 * keep.size:
        keep[:] = True
    return keep


# How many pixels of the judged area may change by more than `CHANGE_LEVEL` (the slide
# pictures' own noise bound) with the screen still the same: on 256-px samples of 720p
# side-by-side slides, pictures a bullet apart differ in 1.4-1.8% of the screen's
# pixels, pictures of the same slide in none.
SCREEN_SAME_PIXELS = 2


def screen_unchanged(
    visual: VisualSamples, screen: Region | None, camera: Region | None
) -> Callable[[float, float], bool]:
    """`unchanged(a, b)`: the screen shows the same picture at `a` as at `b`, judged on
    the samples on both sides of `a` against the one nearest `b` (so a change between
    two samples next to `a` counts as a change)."""
    n, height, width = visual.frames.shape
    keep = judged_area(screen, camera, height, width)

    def unchanged(a: float, b: float) -> bool:
        if n == 0:
            return False
        after = int(np.clip(np.searchsorted(visual.times, a), 0, n - 1))
        reference = visual.frame_at(b)[keep]
        for index in {max(after - 1, 0), after}:
            sample = visual.read(index, index + 1)[0][keep]
            changed = np.abs(sample.astype(np.int16) - reference) > CHANGE_LEVEL
            if int(changed.sum()) > SCREEN_SAME_PIXELS:
                return False
        return True

    return unchanged


def _blank_rule(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (std <= UNIFORM_STD) | ((mean <= DARK_MEAN) & (std <= DARK_STD))


# Share of samples that must be blank for a video to count as blank throughout: a
# recording that shows nothing but a title flash or a stray frame still has nothing to
# cut a clip picture from.
BLANK_THROUGHOUT_SHARE = 0.98


def blank_share(luma_mean: np.ndarray, luma_std: np.ndarray) -> float:
    """Share of samples whose whole frame is blank (the same rule as `blank_mask`).

    The whole frame is judged, camera included: a talking head next to a black screen
    share still has a picture worth showing, a black screen recording has none.
    """
    mean, std = np.asarray(luma_mean), np.asarray(luma_std)
    if mean.size == 0:
        return 0.0
    return float(_blank_rule(mean, std).mean())


def blank_stretches(
    times: np.ndarray, blank: np.ndarray, duration: float, min_duration: float
) -> list[tuple[float, float]]:
    """Runs of blank samples as (start, end) seconds, edges halfway between samples."""
    stretches: list[tuple[float, float]] = []
    n = blank.size
    if n == 0:
        return stretches
    edges = np.diff(np.concatenate([[0], blank.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        start = 0.0 if s == 0 else (times[s - 1] + times[s]) / 2
        end = duration if e == n else (times[e - 1] + times[e]) / 2
        if end - start >= min_duration:
            stretches.append((round(float(start), 3), round(float(end), 3)))
    return stretches
