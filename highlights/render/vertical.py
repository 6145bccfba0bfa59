"""The vertical 9:16 frame for phones, built from the detected lecture layout.

- Screen and camera (side_by_side, picture_in_picture, split_vertical, custom with a
  camera): the screen scaled to the full width on top, the presenter's camera below,
  cropped to fill the rest. For picture-in-picture the camera inset inside the screen
  is painted over in the slide's own background colour (read from a frame around the
  inset), so the face is not shown twice; cropping it away instead would also cut a full
  strip of the slide beside it.
- Screen only (full_screen, no camera, or no layout at all): the screen centred over a
  blurred, darkened, scaled-up copy of itself.

The camera crop is centred on the presenter's face when a Haar cascade finds one in a
frame of the clip, otherwise it keeps the upper part of the camera (where heads are).
"""

from __future__ import annotations

import functools
import logging

import av
import cv2
import numpy as np

from highlights.render.framing import (
    Composition,
    PixelRect,
    display_aspect,
    even,
    region_pixels,
)
from highlights.render.options import RenderOptions
from highlights.render.source import SourceVideo
from highlights.types import LayoutResult, Region

log = logging.getLogger(__name__)

# Phone frame widths below the configured (largest) one, smallest first. 720x1280 is the
# smallest frame short-video apps treat as HD. The lecture's screen is the detail in a
# vertical clip: a screen narrower than a frame is only upscaled into it, so the larger
# frame adds encoder time and bytes, not detail (a 360p lecture's screen is 430-640 px).
SMALLER_VERTICAL_WIDTHS = (720,)

# The screen may take at most this share of the height; the camera keeps the rest.
MAX_SCREEN_SHARE = 0.7
# Without a detected face, keep this share of the cut-away height below the crop
# (0.5 would centre it): heads sit in the upper part of a camera frame.
HEADROOM_BIAS = 0.3


def has_camera(layout: LayoutResult | None) -> bool:
    return (
        layout is not None
        and layout.layout_type != "full_screen"
        and not layout.camera_region.is_empty
    )


def vertical_composition(
    source: SourceVideo,
    layout: LayoutResult | None,
    options: RenderOptions,
    face_center: tuple[float, float] | None = None,
    inset_color: str | None = None,
) -> Composition:
    """The filter chain for a vertical clip; `face_center` is in source pixels,
    `inset_color` the colour that covers a camera inset inside the screen."""
    screen_region = (
        layout.screen_region if layout and not layout.screen_region.is_empty else Region.full()
    )
    screen = region_pixels(screen_region, source)
    if has_camera(layout):
        assert layout is not None
        camera = region_pixels(layout.camera_region, source)
        return _stacked(source, screen, camera, options, face_center, inset_color)
    return _blur_filled(source, screen, options)


def vertical_frame(screen: PixelRect, source: SourceVideo, options: RenderOptions) -> tuple[int, int]:
    """The output size of a vertical clip: the smallest phone frame at least as wide as
    the screen is shown, at most the configured `vertical_width` x `vertical_height`."""
    largest_w, largest_h = options.vertical_width, options.vertical_height
    screen_width = screen.width * float(source.sample_aspect)
    for width in SMALLER_VERTICAL_WIDTHS:
        if screen_width <= width < largest_w:
            return width, even(width * largest_h / largest_w)
    return largest_w, largest_h


def _fit(aspect: float, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest even size of the given aspect inside box_w x box_h."""
    if box_w / aspect <= box_h:
        return box_w, min(box_h, even(box_w / aspect))
    return min(box_w, even(box_h * aspect)), box_h


def _stacked(
    source: SourceVideo,
    screen: PixelRect,
    camera: PixelRect,
    options: RenderOptions,
    face_center: tuple[float, float] | None,
    inset_color: str | None = None,
) -> Composition:
    out_w, out_h = vertical_frame(screen, source, options)
    top_w, top_h = _fit(display_aspect(screen, source), out_w, even(out_h * MAX_SCREEN_SHARE))
    cam_h = out_h - top_h
    cam_crop = _cover_crop(camera, source, out_w / cam_h, face_center)
    top_chain = f"{screen.crop_filter()},scale={top_w}:{top_h}:flags=bicubic,setsar=1"
    inset = inset_box(screen, camera)
    if inset is not None:  # the camera sits on the slide: do not show the face twice
        top_chain = (
            f"drawbox=x={inset.x}:y={inset.y}:w={inset.width}:h={inset.height}:"
            f"color={inset_color or 'black'}:t=fill,{top_chain}"
        )
    if top_w < out_w:  # a portrait screen: centre it on black
        top_chain += f",pad={out_w}:{top_h}:{(out_w - top_w) // 2}:0:black"
    graph = (
        "[0:v]split=2[scr][cam];"
        f"[scr]{top_chain}[top];"
        f"[cam]{cam_crop.crop_filter()},scale={out_w}:{cam_h}:flags=bicubic,setsar=1[bottom];"
        "[top][bottom]vstack=inputs=2,format=yuv420p[base]"
    )
    box = Region((out_w - top_w) / 2 / out_w, 0.0, top_w / out_w, top_h / out_h)
    return Composition(graph, out_w, out_h, box, "vertical_stack")


# Painted a little wider than the detected inset: its border and shadow go too.
_INSET_MARGIN = 4


def inset_box(screen: PixelRect, camera: PixelRect) -> PixelRect | None:
    """The part of the camera (plus a margin) that lies on the screen, or None."""
    x0 = max(screen.x, camera.x - _INSET_MARGIN)
    y0 = max(screen.y, camera.y - _INSET_MARGIN)
    x1 = min(screen.x + screen.width, camera.x + camera.width + _INSET_MARGIN)
    y1 = min(screen.y + screen.height, camera.y + camera.height + _INSET_MARGIN)
    if x1 - x0 < 2 * _INSET_MARGIN or y1 - y0 < 2 * _INSET_MARGIN:
        return None
    return PixelRect(x0, y0, x1 - x0, y1 - y0)


def inset_color(source: SourceVideo, layout: LayoutResult | None, t: float) -> str | None:
    """The slide colour around a camera inset (median of a ring), as ffmpeg's 0xRRGGBB."""
    if not has_camera(layout):
        return None
    assert layout is not None
    screen = region_pixels(layout.screen_region, source)
    camera = region_pixels(layout.camera_region, source)
    box = inset_box(screen, camera)
    if box is None:
        return None
    try:
        with av.open(str(source.path)) as container:
            stream = container.streams.video[0]
            frame = _keyframe(container, stream, t, "rgb24")
    except (av.error.FFmpegError, OSError) as exc:
        log.info("inset colour not read, painting it black: %s", exc)
        return None
    if frame is None:
        return None
    ring = 12  # pixels of slide around the inset that give its background colour
    oy0, ox0 = max(screen.y, box.y - ring), max(screen.x, box.x - ring)
    oy1 = min(screen.y + screen.height, box.y + box.height + ring)
    ox1 = min(screen.x + screen.width, box.x + box.width + ring)
    around = np.ones((oy1 - oy0, ox1 - ox0), dtype=bool)
    around[box.y - oy0 : box.y - oy0 + box.height, box.x - ox0 : box.x - ox0 + box.width] = False
    pixels = frame[oy0:oy1, ox0:ox1][around]
    if len(pixels) == 0:
        return None
    r, g, b = (int(v) for v in np.median(pixels, axis=0))
    return f"0x{r:02X}{g:02X}{b:02X}"


def _cover_crop(
    camera: PixelRect,
    source: SourceVideo,
    target_aspect: float,
    face_center: tuple[float, float] | None,
) -> PixelRect:
    """The part of the camera region with the target display aspect, around the face."""
    sar = float(source.sample_aspect)
    aspect = display_aspect(camera, source)
    if aspect > target_aspect:  # camera too wide: cut the sides
        width = min(camera.width, even(camera.height * target_aspect / sar))
        centre_x = face_center[0] if face_center else camera.x + camera.width / 2
        x = int(round(centre_x - width / 2))
        x = min(max(camera.x, x), camera.x + camera.width - width)
        return PixelRect(x, camera.y, width, camera.height)
    height = min(camera.height, even(camera.width * sar / target_aspect))
    if face_center:
        # Put the face a little above the middle of the crop.
        y = int(round(face_center[1] - height * 0.42))
    else:
        y = camera.y + int(round((camera.height - height) * HEADROOM_BIAS))
    y = min(max(camera.y, y), camera.y + camera.height - height)
    return PixelRect(camera.x, y, camera.width, height)


def _blur_filled(source: SourceVideo, screen: PixelRect, options: RenderOptions) -> Composition:
    out_w, out_h = vertical_frame(screen, source, options)
    aspect = display_aspect(screen, source)
    fg_w, fg_h = _fit(aspect, out_w, out_h)
    # The background is blurred at a quarter of the size: same look, a fraction of the cost.
    small_w, small_h = even(out_w / 4), even(out_h / 4)
    sar = float(source.sample_aspect)
    if aspect > small_w / small_h:
        bg_crop_w = even(screen.height * (small_w / small_h) / sar)
        bg_crop = PixelRect(
            screen.x + (screen.width - bg_crop_w) // 2, screen.y, bg_crop_w, screen.height
        )
    else:
        bg_crop_h = even(screen.width * sar / (small_w / small_h))
        bg_crop = PixelRect(
            screen.x, screen.y + (screen.height - bg_crop_h) // 2, screen.width, bg_crop_h
        )
    x0, y0 = (out_w - fg_w) // 2, (out_h - fg_h) // 2
    graph = (
        "[0:v]split=2[bgsrc][fgsrc];"
        f"[bgsrc]{bg_crop.crop_filter()},scale={small_w}:{small_h}:flags=fast_bilinear,"
        "boxblur=luma_radius=10:luma_power=2,eq=brightness=-0.12,"
        f"scale={out_w}:{out_h}:flags=fast_bilinear,setsar=1[bg];"
        f"[fgsrc]{screen.crop_filter()},scale={fg_w}:{fg_h}:flags=bicubic,setsar=1[fg];"
        f"[bg][fg]overlay={x0}:{y0}:format=auto,format=yuv420p[base]"
    )
    box = Region(x0 / out_w, y0 / out_h, fg_w / out_w, fg_h / out_h)
    return Composition(graph, out_w, out_h, box, "vertical_blur_fill")


@functools.cache
def _face_cascade() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


def locate_face(
    source: SourceVideo, layout: LayoutResult | None, times: list[float]
) -> tuple[float, float] | None:
    """Centre of the largest face in the camera region, in source pixels, or None.

    Tries the keyframe at or before each time in turn; decoding only keyframes keeps
    this cheap on long recordings.
    """
    if not has_camera(layout):
        return None
    assert layout is not None
    camera = region_pixels(layout.camera_region, source)
    cascade = _face_cascade()
    try:
        with av.open(str(source.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for t in times:
                gray = _keyframe(container, stream, t, "gray")
                if gray is None:
                    continue
                patch = gray[
                    camera.y : camera.y + camera.height, camera.x : camera.x + camera.width
                ]
                min_side = max(24, int(min(patch.shape) * 0.1))
                faces = cascade.detectMultiScale(
                    patch, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
                )
                if len(faces):
                    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
                    return camera.x + x + w / 2, camera.y + y + h / 2
    except (av.error.FFmpegError, OSError) as exc:
        log.info("face search failed, keeping the default camera crop: %s", exc)
    return None


def _keyframe(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    t: float,
    pixel_format: str,
) -> np.ndarray | None:
    origin = container.start_time if container.start_time and container.start_time > 0 else 0
    container.seek(origin + int(max(0.0, t) * av.time_base), backward=True, any_frame=False)
    for frame in container.decode(stream):
        return frame.to_ndarray(format=pixel_format)
    return None
