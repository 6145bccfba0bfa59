"""Frame geometry shared by the clip formats: pixel rectangles and the result type."""

from __future__ import annotations

from dataclasses import dataclass

from highlights.render.options import RenderOptions
from highlights.render.source import SourceVideo
from highlights.types import Region


@dataclass(frozen=True)
class PixelRect:
    x: int
    y: int
    width: int
    height: int

    def crop_filter(self) -> str:
        return f"crop={self.width}:{self.height}:{self.x}:{self.y}"


@dataclass(frozen=True)
class Composition:
    """How one clip's frame is built: an ffmpeg filter chain and what lands where.

    `graph` reads `[0:v]` and ends in the label `[base]`; captions, when burned, are
    drawn on `[base]` afterwards. `screen_box` is where the lecture screen sits in the
    output frame, in normalised coordinates (the thumbnail is scored there).
    """

    graph: str
    width: int
    height: int
    screen_box: Region
    framing: str  # "original", "vertical_stack" or "vertical_blur_fill"


def even(value: float) -> int:
    """Nearest even integer, at least 2: yuv420p needs even sizes."""
    return max(2, int(round(value / 2.0)) * 2)


def region_pixels(region: Region, source: SourceVideo) -> PixelRect:
    """A normalised region as a crop rectangle inside the source, even-sized and clamped."""
    x = min(max(0, int(round(region.x * source.width))), source.width - 2)
    y = min(max(0, int(round(region.y * source.height))), source.height - 2)
    w = even(region.width * source.width)
    h = even(region.height * source.height)
    w = min(w, (source.width - x) // 2 * 2)
    h = min(h, (source.height - y) // 2 * 2)
    return PixelRect(x, y, max(2, w), max(2, h))


def display_aspect(rect: PixelRect, source: SourceVideo) -> float:
    """Width over height as seen on screen, with the pixel shape applied."""
    return rect.width * float(source.sample_aspect) / rect.height


def original_composition(
    source: SourceVideo, screen: Region, options: RenderOptions
) -> Composition:
    """The lecture frame as recorded: square pixels, even size, at most max_height tall."""
    width = source.display_width
    height = float(source.height)
    if height > options.max_height:
        width, height = width * options.max_height / height, float(options.max_height)
    out_w, out_h = even(width), even(height)
    steps = []
    if (out_w, out_h) != (source.width, source.height) or source.sample_aspect != 1:
        steps.append(f"scale={out_w}:{out_h}:flags=bicubic")
    steps += ["setsar=1", "format=yuv420p"]
    graph = "[0:v]" + ",".join(steps) + "[base]"
    return Composition(graph, out_w, out_h, screen, "original")
