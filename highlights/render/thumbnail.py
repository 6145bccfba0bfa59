"""A thumbnail for each clip: the frame where the slide is most legible.

Candidate times spread over the clip are decoded from the rendered clip (it has a
keyframe every couple of seconds, so seeking is cheap) and scored on the screen area
only: a blank or faded frame scores low, sharp high-contrast slide text high. The
winner is then cut from the source with the clip's framing but without burned
captions, so thumbnails stay clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from highlights.types import Region

CANDIDATE_FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)
# Grey-level standard deviation under which a frame counts as blank (black, white, fade).
BLANK_STD = 6.0


@dataclass(frozen=True)
class ThumbnailChoice:
    time: float  # seconds from the clip start
    score: float
    blank: bool  # every candidate looked blank


def frame_score(gray: np.ndarray) -> float:
    """Higher for sharp, contrasty, non-blank content."""
    if gray.shape[1] > 480:
        scale = 480 / gray.shape[1]
        gray = cv2.resize(
            gray, (480, max(1, int(gray.shape[0] * scale))), interpolation=cv2.INTER_AREA
        )
    std = float(gray.std())
    if std < BLANK_STD:
        return std - 100.0
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    return float(np.log1p(sharpness)) + std / 40.0


def crop_box(gray: np.ndarray, box: Region) -> np.ndarray:
    h, w = gray.shape[:2]
    x0, y0 = int(box.x * w), int(box.y * h)
    x1, y1 = int((box.x + box.width) * w), int((box.y + box.height) * h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return gray
    return gray[y0:y1, x0:x1]


def choose_thumbnail_time(clip_path: Path, screen_box: Region, duration: float) -> ThumbnailChoice:
    times = sorted(
        {
            round(min(max(0.1, duration * f), max(0.1, duration - 0.2)), 3)
            for f in CANDIDATE_FRACTIONS
        }
    )
    scored: list[tuple[float, float]] = []
    with av.open(str(clip_path)) as container:
        stream = container.streams.video[0]
        for t in times:
            gray = _frame_at(container, stream, t)
            if gray is not None:
                scored.append((frame_score(crop_box(gray, screen_box)), t))
    if not scored:
        return ThumbnailChoice(min(duration / 2, 0.5), -100.0, True)
    # Best score; on ties the earlier time, so the choice is deterministic.
    score, t = max(scored, key=lambda st: (st[0], -st[1]))
    return ThumbnailChoice(t, score, score < 0)


def _frame_at(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, t: float
) -> np.ndarray | None:
    container.seek(int(t / stream.time_base), stream=stream, backward=True, any_frame=False)
    last = None
    for frame in container.decode(stream):
        last = frame
        if frame.time is not None and frame.time >= t - 1e-3:
            break
    return last.to_ndarray(format="gray") if last is not None else None
