"""Where the screen share and the presenter camera are, from how the pixels move.

A webcam never produces two identical frames: the presenter moves and the sensor adds
noise, so camera pixels change between almost every pair of samples. A screen share
changes only at slide changes, builds and the odd cursor move. The visual pass keeps,
for every pixel of a ~640 px wide picture, the share of sample pairs in which it
changed (`fine_activity`) and the time-mean picture (`fine_mean`). Here:

1. the camera is the largest connected area that keeps changing (activity above
   `ACTIVE`, closed and hole-filled into one blob); its bounding box is the coarse
   camera rectangle;
2. each side of the rectangle is moved to the straight line nearby that best separates
   the camera from its surroundings (a step in activity or in the mean picture along
   most of the side): a picture-in-picture box or a split border is a straight edge;
3. the screen is the bounding box of the static content outside the camera, without
   dark, uniform, never-changing canvas (letterbox bars); the arrangement is named
   from how camera and screen sit relative to each other (beside: side_by_side; above
   or below: split_vertical; small and on top of the screen: picture_in_picture);
4. a frontal face (OpenCV's Haar cascade) found inside the rectangle on the visual
   pass's keyframes confirms it and picks a representative frame. Looking only inside
   the camera keeps it fast and ignores photos of people on slides.

Slide changes are then detected on the screen region only (`highlights.slides`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from highlights.frame_stats import DARK_MEAN, UNIFORM_STD
from highlights.slides import detect_slide_changes
from highlights.types import LayoutResult, Region
from highlights.visual import VisualSamples

# A pixel belongs to the camera when it changed in at least this share of sample pairs.
# Slides changing every 5 s give screen pixels at most 0.1 at 2 samples a second.
ACTIVE = 0.25
_MIN_CAMERA_AREA = 0.01  # of the frame; smaller moving blobs are cursors, clocks, noise
_CAMERA_ONLY_AREA = 0.6  # a moving area this large is a camera shot, not an overlay
_EDGE_TOL = 0.012  # a side this close to the frame edge touches it
_TOUCH_TOL = 0.03  # a camera this close to spanning the frame spans it
# An overlay has straight borders (edge coverage) or moves all over (fill); a moving
# shape with neither is a person inside a camera shot.
_OVERLAY_EDGES = 0.5
_OVERLAY_FILL = 0.6
_MEAN_STEP = 12.0  # gray levels across a border line in the mean picture
_ACTIVITY_STEP = 0.15
_BAR_LEVEL = 32.0  # letterbox bars are dark ...
_BAR_STD = 4.0  # ... uniform ...
_BAR_ACTIVITY = 0.02  # ... and never change


@dataclass(frozen=True)
class _Box:
    """A rectangle in fine-map pixels; x1/y1 exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def area(self) -> int:
        return max(0, self.x1 - self.x0) * max(0, self.y1 - self.y0)

    def region(self, width: int, height: int) -> Region:
        return Region(
            self.x0 / width,
            self.y0 / height,
            (self.x1 - self.x0) / width,
            (self.y1 - self.y0) / height,
        )


@dataclass(frozen=True)
class _Regions:
    screen: _Box
    camera: _Box | None
    layout_type: str
    camera_only: bool
    edge_coverage: float


def _moving_blob(activity: np.ndarray) -> tuple[_Box, float] | None:
    """Bounding box of the largest area that keeps changing, and its share of the frame."""
    h, w = activity.shape
    mask = (activity >= ACTIVE).astype(np.uint8)
    if not mask.any():
        return None
    k = max(3, (w // 40) | 1)
    # close gaps inside the presenter (flat shirt, still background patches), fill holes,
    # then drop specks (cursor trails, single noisy pixels)
    mask = cv2.morphologyEx(
        mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    )
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    best = max(contours, key=cv2.contourArea)
    x, y, bw, bh = cv2.boundingRect(best)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, [best], -1, 1, thickness=cv2.FILLED)
    share = float(filled.sum()) / (w * h)
    if share < _MIN_CAMERA_AREA:
        return None
    return _Box(x, y, x + bw, y + bh), share


def _line_coverage(
    mean: np.ndarray, activity: np.ndarray, axis: int, pos: int, lo: int, hi: int, inside_sign: int
) -> float:
    """Share of the span [lo, hi) along which a border at `pos` separates two sides.

    axis 1: a vertical line between columns pos-1 and pos; axis 0: a horizontal line.
    `inside_sign` says which side is the camera (+1: columns >= pos).
    """
    size = mean.shape[axis]
    if pos - 2 < 0 or pos + 2 > size or hi - lo < 3:
        return 0.0
    if axis == 1:
        before_m = mean[lo:hi, pos - 2 : pos].mean(axis=1)
        after_m = mean[lo:hi, pos : pos + 2].mean(axis=1)
        before_a = activity[lo:hi, pos - 2 : pos].mean(axis=1)
        after_a = activity[lo:hi, pos : pos + 2].mean(axis=1)
    else:
        before_m = mean[pos - 2 : pos, lo:hi].mean(axis=0)
        after_m = mean[pos : pos + 2, lo:hi].mean(axis=0)
        before_a = activity[pos - 2 : pos, lo:hi].mean(axis=0)
        after_a = activity[pos : pos + 2, lo:hi].mean(axis=0)
    inside_a, outside_a = (after_a, before_a) if inside_sign > 0 else (before_a, after_a)
    separated = (np.abs(after_m - before_m) >= _MEAN_STEP) | (
        inside_a - outside_a >= _ACTIVITY_STEP
    )
    return float(separated.mean())


def _refine(box: _Box, mean: np.ndarray, activity: np.ndarray) -> tuple[_Box, float]:
    """Move each side to the nearby straight line that best separates camera and rest."""
    h, w = activity.shape
    sides = {"x0": box.x0, "y0": box.y0, "x1": box.x1, "y1": box.y1}
    coverages: list[float] = []
    for name in ("x0", "x1", "y0", "y1"):
        vertical = name.startswith("x")
        size = w if vertical else h
        pos = sides[name]
        if pos <= _EDGE_TOL * size:
            sides[name] = 0
            continue
        if pos >= size - _EDGE_TOL * size:
            sides[name] = size
            continue
        lo, hi = (sides["y0"], sides["y1"]) if vertical else (sides["x0"], sides["x1"])
        # shrink the span a little: corners blend both borders
        margin = (hi - lo) // 10
        lo, hi = lo + margin, hi - margin
        inside_sign = 1 if name in ("x0", "y0") else -1
        reach_out = max(3, int(0.06 * size))
        reach_in = max(3, int(0.03 * size))
        if inside_sign > 0:
            candidates = range(max(2, pos - reach_out), min(size - 2, pos + reach_in) + 1)
        else:
            candidates = range(max(2, pos - reach_in), min(size - 2, pos + reach_out) + 1)
        axis = 1 if vertical else 0
        scored = [
            (_line_coverage(mean, activity, axis, c, lo, hi, inside_sign), -abs(c - pos), c)
            for c in candidates
        ]
        best_cov, _, best_pos = max(scored)
        if best_cov >= 0.5:
            sides[name] = best_pos
        coverages.append(best_cov)
    refined = _Box(sides["x0"], sides["y0"], sides["x1"], sides["y1"])
    return refined, (float(np.mean(coverages)) if coverages else 1.0)


def _content_box(mean: np.ndarray, activity: np.ndarray, camera: _Box | None) -> _Box | None:
    """Bounding box of the static picture content: the screen share.

    Excluded are the camera (with a guard band) and letterbox/canvas pixels: dark,
    locally uniform and never changing. None when nothing else is left.
    """
    h, w = mean.shape
    local_mean = cv2.blur(mean, (5, 5))
    local_var = cv2.blur(mean * mean, (5, 5)) - local_mean * local_mean
    bar = (local_mean <= _BAR_LEVEL) & (local_var <= _BAR_STD**2) & (activity <= _BAR_ACTIVITY)
    content = (~bar).astype(np.uint8)
    guard = 2  # resampling blurs the camera's border into its neighbours
    if camera is not None:
        content[
            max(0, camera.y0 - guard) : camera.y1 + guard,
            max(0, camera.x0 - guard) : camera.x1 + guard,
        ] = 0
    content = cv2.morphologyEx(content, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if content.sum() < 0.02 * h * w:
        return None
    ys = np.flatnonzero(content.any(axis=1))
    xs = np.flatnonzero(content.any(axis=0))
    x0, y0, x1, y1 = int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1
    # within 1% of the frame edge is resampling fringe, not a bar; a screen that ends
    # at the camera's guard band ends at the camera
    x0 = 0 if x0 < 0.01 * w else x0
    y0 = 0 if y0 < 0.01 * h else y0
    x1 = w if x1 > 0.99 * w else x1
    y1 = h if y1 > 0.99 * h else y1
    if camera is not None:
        if 0 <= camera.x0 - x1 <= 2 * guard:
            x1 = camera.x0
        if 0 <= x0 - camera.x1 <= 2 * guard:
            x0 = camera.x1
        if 0 <= camera.y0 - y1 <= 2 * guard:
            y1 = camera.y0
        if 0 <= y0 - camera.y1 <= 2 * guard:
            y0 = camera.y1
    return _Box(x0, y0, x1, y1)


def _name(camera: _Box, screen: _Box, w: int, h: int) -> str:
    """The arrangement of camera and screen, from where they sit relative to each other."""
    ix = max(0, min(camera.x1, screen.x1) - max(camera.x0, screen.x0))
    iy = max(0, min(camera.y1, screen.y1) - max(camera.y0, screen.y0))
    cam_w, cam_h = camera.x1 - camera.x0, camera.y1 - camera.y0
    scr_w, scr_h = screen.x1 - screen.x0, screen.y1 - screen.y0
    if ix * iy >= 0.5 * camera.area:  # the camera sits on top of the screen
        spans = cam_w >= (1 - _TOUCH_TOL) * w or cam_h >= (1 - _TOUCH_TOL) * h
        small = camera.area <= 0.35 * screen.area
        return "picture_in_picture" if small and not spans else "custom"
    if ix <= 0.1 * min(cam_w, scr_w) and iy >= 0.5 * min(cam_h, scr_h):
        return "side_by_side"
    if iy <= 0.1 * min(cam_h, scr_h) and ix >= 0.5 * min(cam_w, scr_w):
        return "split_vertical"
    return "custom"


def _arrange(mean: np.ndarray, activity: np.ndarray) -> _Regions:
    h, w = activity.shape
    whole = _Box(0, 0, w, h)
    blob = _moving_blob(activity)
    if blob is None:
        return _Regions(
            _content_box(mean, activity, None) or whole, None, "full_screen", False, 1.0
        )
    coarse, share = blob
    if share >= _CAMERA_ONLY_AREA:
        # the whole picture moves: a camera shot with no screen share
        return _Regions(whole, whole, "full_screen", True, 1.0)
    camera, coverage = _refine(coarse, mean, activity)
    inside = activity[camera.y0 : camera.y1, camera.x0 : camera.x1]
    fill = float((inside >= ACTIVE / 3).mean()) if inside.size else 0.0
    if coverage < _OVERLAY_EDGES and fill < _OVERLAY_FILL:
        # a moving shape with no straight border around it: someone moving in a camera
        # shot (a presenter walking in front of a backdrop), not a camera overlay
        return _Regions(whole, whole, "full_screen", True, coverage)
    screen = _content_box(mean, activity, camera)
    if screen is None:
        # a camera on an empty canvas: nothing but the presenter to show
        return _Regions(whole, camera, "full_screen", True, coverage)
    return _Regions(screen, camera, _name(camera, screen, w, h), False, coverage)


def estimate_regions(visual: VisualSamples) -> tuple[Region, Region]:
    """(screen, camera) from the motion maps alone; camera is empty without a presenter."""
    if visual is None:
        return Region.full(), Region.empty()
    arranged = _arrange(visual.fine_mean, visual.fine_activity)
    h, w = visual.fine_activity.shape
    camera = arranged.camera.region(w, h) if arranged.camera is not None else Region.empty()
    if arranged.camera_only:
        return Region.empty(), camera
    return arranged.screen.region(w, h), camera


class FaceFinder:
    """OpenCV's frontal-face Haar cascade (shipped inside the opencv wheel)."""

    def __init__(self) -> None:
        cascade_path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self.cascade = cv2.CascadeClassifier(str(cascade_path))
        if self.cascade.empty():
            raise RuntimeError(f"OpenCV face cascade missing or unreadable: {cascade_path}")

    def find(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        found = self.cascade.detectMultiScale(
            cv2.equalizeHist(gray), scaleFactor=1.1, minNeighbors=5, minSize=(24, 24)
        )
        return [tuple(int(v) for v in box) for box in found] if len(found) else []


def find_faces(visual: VisualSamples, region: Region | None = None) -> list[tuple[float, list[float]]]:
    """(time, [x, y, w, h]) of faces centred in `region` (None: anywhere) on the keyframes.

    Boxes are normalised to the whole frame. The search covers the region plus a 10%
    margin, so a face cut by the region's border is still found.
    """
    frames, times = visual.keyframes, visual.keyframe_times
    if len(times) == 0:
        return []
    k, fh, fw = frames.shape
    area = region if region is not None and not region.is_empty else Region.full()
    mx, my = 0.1 * area.width, 0.1 * area.height
    x0 = max(0, int((area.x - mx) * fw))
    y0 = max(0, int((area.y - my) * fh))
    x1 = min(fw, int(np.ceil((area.x + area.width + mx) * fw)))
    y1 = min(fh, int(np.ceil((area.y + area.height + my) * fh)))
    if x1 - x0 < 24 or y1 - y0 < 24:
        return []
    finder = FaceFinder()
    found: list[tuple[float, list[float]]] = []
    for frame, t in zip(frames, times, strict=True):
        for bx, by, bw, bh in finder.find(np.ascontiguousarray(frame[y0:y1, x0:x1])):
            box = [(x0 + bx) / fw, (y0 + by) / fh, bw / fw, bh / fh]
            cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
            if area.x <= cx <= area.x + area.width and area.y <= cy <= area.y + area.height:
                found.append((round(float(t), 3), [round(v, 4) for v in box]))
    return found


def _representative_time(visual: VisualSamples, face_times: list[float], changes: list[float]) -> float | None:
    """A time with the slide on screen (not blank, not mid-change) and, if any, a face."""
    if visual.count == 0:
        return None
    times = visual.times
    ok = (visual.luma_std > UNIFORM_STD) & (visual.luma_mean > DARK_MEAN)
    if changes:
        near_change = np.min(np.abs(times[:, None] - np.asarray(changes)[None, :]), axis=1) < 1.0
        ok &= ~near_change
    middle = float(times[len(times) // 2])
    if face_times:
        good = [t for t in face_times if ok[int(np.argmin(np.abs(times - t)))]] or face_times
        return round(min(good, key=lambda t: abs(t - middle)), 3)
    candidates = times[ok] if ok.any() else times
    return round(float(candidates[int(np.argmin(np.abs(candidates - middle)))]), 3)


def _split_ratio(layout_type: str, screen: Region, camera: Region) -> float:
    if camera.is_empty or screen.is_empty:
        return 1.0 if not screen.is_empty else 0.0
    if layout_type == "side_by_side":
        return screen.width / (screen.width + camera.width)
    if layout_type == "split_vertical":
        return screen.height / (screen.height + camera.height)
    if layout_type == "picture_in_picture":
        return max(0.0, 1.0 - camera.area / screen.area)
    return screen.area / (screen.area + camera.area)


def analyze_layout(visual: VisualSamples | None, *, min_change_spacing: float = 3.0) -> tuple[LayoutResult, list[float]]:
    """Layout of the recording and the slide-change times on its screen region.

    `visual` is the job's VisualSamples, or None for an audio-only file (then the
    result is a full-screen layout with zero confidence and no slide changes).
    """
    if visual is None or visual.count == 0:
        return LayoutResult(
            Region.full(), Region.empty(), 1.0, "full_screen", 0.0, None, detector="none (no video)"
        ), []
    mean, activity = visual.fine_mean, visual.fine_activity
    h, w = activity.shape
    arranged = _arrange(mean, activity)
    camera = arranged.camera.region(w, h) if arranged.camera is not None else Region.empty()
    screen = Region.empty() if arranged.camera_only else arranged.screen.region(w, h)
    faces = find_faces(visual, camera) if not camera.is_empty else []
    face_checks = max(1, len(visual.keyframe_times))

    changes = (
        detect_slide_changes(visual, screen, camera, min_spacing=min_change_spacing)
        if not screen.is_empty
        else []
    )
    sample_time = _representative_time(visual, [t for t, _ in faces], changes)

    if arranged.camera is None:
        # nothing moves: a screen recording; confidence drops if faces show up anyway
        stray_faces = len({t for t, _ in find_faces(visual)}) / face_checks
        confidence = 0.9 * (1.0 - 0.5 * stray_faces)
    elif arranged.camera_only:
        # a camera shot without a screen share: only a face makes that convincing
        face_share = len({t for t, _ in faces}) / face_checks
        confidence = 0.5 + 0.4 * min(1.0, face_share * 2)
    else:
        cam = arranged.camera
        inside = activity[cam.y0 : cam.y1, cam.x0 : cam.x1]
        outside_mask = np.ones_like(activity, dtype=bool)
        outside_mask[cam.y0 : cam.y1, cam.x0 : cam.x1] = False
        outside = activity[outside_mask]
        contrast = float(inside.mean()) - (float(outside.mean()) if outside.size else 0.0)
        fill = float((inside >= ACTIVE / 3).mean())
        face_share = len({t for t, _ in faces}) / face_checks
        confidence = (
            0.35 * min(1.0, max(0.0, contrast) / 0.3)
            + 0.2 * fill
            + 0.2 * arranged.edge_coverage
            + 0.25 * min(1.0, face_share * 2)
        )
    detector = "motion+haar" if faces else "motion"
    result = LayoutResult(
        screen_region=_rounded(screen),
        camera_region=_rounded(camera),
        split_ratio=round(_split_ratio(arranged.layout_type, screen, camera), 4),
        layout_type=arranged.layout_type,  # type: ignore[arg-type]
        confidence_score=round(float(np.clip(confidence, 0.0, 1.0)), 3),
        sample_frame_time=sample_time,
        detector=detector,
    )
    return result, changes


def _rounded(region: Region) -> Region:
    return Region(*(round(v, 4) for v in (region.x, region.y, region.width, region.height)))
