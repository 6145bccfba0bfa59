"""The presenter camera: a real face photo that sways, breathes and has sensor noise.

The face is scikit-image's bundled astronaut portrait (a real photograph), so face
detectors find it. A lecturer never holds still and a webcam never produces identical
frames, so every frame moves a little (slow head sway, zoom, tilt) and carries fresh
sensor noise; that constant change is what tells a camera region from a static slide.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from lecturesynth.errors import SynthError

# Centre of the face in the 512x512 astronaut photo, and how much of the photo a
# webcam-like framing keeps around it.
_FACE_CENTRE = (225.0, 120.0)
_NOISE_BANK = 12


def _astronaut_bgr() -> np.ndarray:
    try:
        from skimage import data
    except ImportError as exc:  # scikit-image is a dev dependency
        raise SynthError(
            "scikit-image is needed for the presenter face: run `uv sync` with dev dependencies"
        ) from exc
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def _frame_face(photo: np.ndarray, width: int, height: int) -> np.ndarray:
    """Crop the photo to the region's aspect ratio around the face, with zoom headroom."""
    ph, pw = photo.shape[:2]
    aspect = width / height
    if aspect < 0.8:  # tall strip (side by side): head and shoulders, full height
        crop_h = ph
        crop_w = min(pw, crop_h * aspect)
    else:  # landscape box (picture in picture): head and upper body
        crop_w = min(pw, 400.0)
        crop_h = min(ph, crop_w / aspect)
        crop_w = crop_h * aspect
    x0 = min(max(_FACE_CENTRE[0] - crop_w / 2, 0), pw - crop_w)
    y0 = min(max(_FACE_CENTRE[1] - crop_h * 0.45, 0), ph - crop_h)
    crop = photo[int(y0) : int(y0 + crop_h), int(x0) : int(x0 + crop_w)]
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)


class PresenterCamera:
    """Yields the camera picture for frame i as BGR uint8 of (height, width, 3)."""

    def __init__(self, width: int, height: int, fps: float, seed: int = 0) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.base = _frame_face(_astronaut_bgr(), width, height)
        rng = np.random.default_rng(seed)
        self.phases = rng.uniform(0, 2 * math.pi, size=6)
        # Sensor noise, split into a positive and a negative part so it can be applied
        # with saturating uint8 arithmetic (fast) instead of a widened copy per frame.
        noise = rng.normal(0.0, 2.5, size=(_NOISE_BANK, height, width, 3))
        self.noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self.noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        self.rng = rng

    def frame(self, index: int) -> np.ndarray:
        t = index / self.fps
        p = self.phases
        scale = min(self.width, self.height)
        dx = scale * (
            0.012 * math.sin(2 * math.pi * t / 5.3 + p[0])
            + 0.004 * math.sin(2 * math.pi * t / 1.9 + p[1])
        )
        dy = scale * (
            0.008 * math.sin(2 * math.pi * t / 4.1 + p[2])
            + 0.003 * math.sin(2 * math.pi * t / 1.3 + p[3])
        )
        zoom = 1.05 + 0.02 * math.sin(2 * math.pi * t / 9.7 + p[4])
        angle = 0.8 * math.sin(2 * math.pi * t / 6.9 + p[5])
        centre = (self.width / 2, self.height * 0.4)
        matrix = cv2.getRotationMatrix2D(centre, angle, zoom)
        matrix[:, 2] += (dx, dy)
        picture = cv2.warpAffine(
            self.base,
            matrix,
            (self.width, self.height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        k = int(self.rng.integers(_NOISE_BANK))
        cv2.add(picture, self.noise_up[k], dst=picture)
        cv2.subtract(picture, self.noise_down[(k + 5) % _NOISE_BANK], dst=picture)
        return picture
