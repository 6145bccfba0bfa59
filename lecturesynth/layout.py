"""Where the screen share and the presenter camera sit in the frame.

Rectangles are in pixels and even-aligned, so they map exactly onto the half-resolution
chroma planes of yuv420p; the ground truth reports them normalised to the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from highlights.types import Region
from lecturesynth.errors import SynthError

SynthLayout = Literal["side_by_side", "picture_in_picture", "full_screen"]
LAYOUTS: tuple[SynthLayout, ...] = ("side_by_side", "picture_in_picture", "full_screen")


@dataclass(frozen=True)
class PixelRect:
    x: int
    y: int
    width: int
    height: int

    def normalised(self, frame_width: int, frame_height: int) -> Region:
        return Region(
            self.x / frame_width,
            self.y / frame_height,
            self.width / frame_width,
            self.height / frame_height,
        )


@dataclass(frozen=True)
class FrameLayout:
    layout_type: SynthLayout
    width: int
    height: int
    screen: PixelRect
    camera: PixelRect | None  # None when there is no presenter camera

    def screen_region(self) -> Region:
        return self.screen.normalised(self.width, self.height)

    def camera_region(self) -> Region:
        if self.camera is None:
            return Region.empty()
        return self.camera.normalised(self.width, self.height)


def _even(value: float) -> int:
    return int(round(value / 2.0)) * 2


def make_layout(layout_type: str, width: int, height: int, split: float = 0.7) -> FrameLayout:
    """Place screen and camera for `layout_type` in a `width` x `height` frame."""
    if width % 2 or height % 2 or width < 64 or height < 64:
        raise SynthError(f"frame size must be even and at least 64x64, got {width}x{height}")
    if layout_type == "side_by_side":
        if not 0.5 <= split <= 0.85:
            raise SynthError(f"side_by_side split must be between 0.5 and 0.85, got {split}")
        screen_w = _even(width * split)
        return FrameLayout(
            layout_type,
            width,
            height,
            screen=PixelRect(0, 0, screen_w, height),
            camera=PixelRect(screen_w, 0, width - screen_w, height),
        )
    if layout_type == "picture_in_picture":
        cam_w, cam_h = _even(width * 0.25), _even(height * 0.25)
        margin_x, margin_y = _even(width * 0.02), _even(height * 0.03)
        return FrameLayout(
            layout_type,
            width,
            height,
            screen=PixelRect(0, 0, width, height),
            camera=PixelRect(width - cam_w - margin_x, height - cam_h - margin_y, cam_w, cam_h),
        )
    if layout_type == "full_screen":
        return FrameLayout(layout_type, width, height, PixelRect(0, 0, width, height), None)
    raise SynthError(f"unknown layout {layout_type!r}: choose one of {', '.join(LAYOUTS)}")
