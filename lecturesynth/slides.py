"""Draw lecture slides (title bar, bullets, footer) with a real TrueType font."""

from __future__ import annotations

import functools
import hashlib

import cv2
import numpy as np
from PIL import Image, ImageDraw

from lecturesynth.fonts import load_font
from lecturesynth.scripts import SlideScript

# One accent per topic slot, far apart in hue so consecutive topics look different.
ACCENTS: tuple[tuple[int, int, int], ...] = (
    (31, 78, 121),
    (150, 40, 27),
    (30, 110, 60),
    (120, 60, 140),
    (200, 110, 20),
    (20, 120, 130),
    (90, 90, 90),
    (170, 30, 90),
    (60, 80, 170),
    (110, 90, 30),
    (10, 90, 100),
    (140, 70, 50),
)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, max_width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _draw_figure(draw, key: str, accent, top_left, bottom_right, labels: tuple[str, ...]) -> None:
    """A simple chart or box diagram, different for every slide title, in the free space."""
    x0, y0 = top_left
    x1, y1 = bottom_right
    if x1 - x0 < 40 or y1 - y0 < 30:
        return
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
    rng = np.random.default_rng(seed)
    light = tuple(int(c + (255 - c) * 0.55) for c in accent)
    if seed % 2:  # bar chart
        bars = int(rng.integers(4, 8))
        step = (x1 - x0) / bars
        draw.line([x0, y1, x1, y1], fill=(90, 90, 90), width=2)
        for i, h in enumerate(rng.uniform(0.25, 1.0, size=bars)):
            top = y1 - h * (y1 - y0)
            draw.rectangle(
                [x0 + i * step + step * 0.2, top, x0 + (i + 0.8) * step, y1],
                fill=accent if i % 2 else light,
            )
    else:  # boxes joined by arrows
        boxes = int(rng.integers(3, 5))
        step = (x1 - x0) / boxes
        cy = (y0 + y1) / 2
        bh = min((y1 - y0) * 0.6, step * 0.5)
        for i in range(boxes):
            bx0, bx1 = x0 + i * step + step * 0.1, x0 + (i + 0.7) * step
            draw.rounded_rectangle(
                [bx0, cy - bh / 2, bx1, cy + bh / 2],
                radius=int(bh * 0.15),
                fill=light,
                outline=accent,
                width=2,
            )
            if i < boxes - 1:
                ax = x0 + (i + 1) * step + step * 0.1
                draw.line([bx1, cy, ax, cy], fill=accent, width=3)
                draw.polygon([(ax, cy), (ax - 8, cy - 5), (ax - 8, cy + 5)], fill=accent)
            if i < len(labels):
                font = load_font(max(6, int(bh * 0.16)))
                label = labels[(i + seed) % len(labels)]
                while len(label) > 3 and draw.textlength(label, font=font) > (bx1 - bx0) * 0.9:
                    label = label[:-1]
                tw = draw.textlength(label, font=font)
                draw.text(
                    ((bx0 + bx1 - tw) / 2, cy - font.size * 0.6),
                    label,
                    font=font,
                    fill=(30, 30, 30),
                )


@functools.lru_cache(maxsize=8)  # screen states come in order; few are ever revisited
def render_slide(
    slide: SlideScript,
    bullets_visible: int,
    course_title: str,
    slide_number: int,
    accent_index: int,
    size: tuple[int, int],
    labels: tuple[str, ...] = (),
) -> np.ndarray:
    """Return the slide as a BGR uint8 image of `size` (width, height)."""
    width, height = size
    unit = min(height, width * 0.75)  # scale text to the smaller side of a 4:3 box
    image = Image.new("RGB", (width, height), (248, 248, 244))
    draw = ImageDraw.Draw(image)
    accent = ACCENTS[accent_index % len(ACCENTS)]

    bar_h = int(unit * 0.17)
    draw.rectangle([0, 0, width, bar_h], fill=accent)
    title_font = load_font(max(10, int(unit * 0.07)), "bold")
    margin = int(width * 0.05)
    title_lines = _wrap(draw, slide.title, title_font, width - 2 * margin)[:2]
    line_h = title_font.size * 1.15
    y = (bar_h - line_h * len(title_lines)) / 2
    for line in title_lines:
        draw.text((margin, y), line, font=title_font, fill=(255, 255, 255))
        y += line_h

    body_font = load_font(max(8, int(unit * 0.05)))
    bullet_indent = int(body_font.size * 1.2)
    y = bar_h + unit * 0.08
    # Lay out every bullet, draw only the visible ones: a bullet build must add text
    # without moving anything already on the slide.
    for index, bullet in enumerate(slide.bullets):
        visible = index < bullets_visible
        if visible:
            draw.ellipse(
                [
                    margin,
                    y + body_font.size * 0.35,
                    margin + body_font.size * 0.4,
                    y + body_font.size * 0.75,
                ],
                fill=accent,
            )
        for line in _wrap(draw, bullet.text, body_font, width - 2 * margin - bullet_indent):
            if visible:
                draw.text((margin + bullet_indent, y), line, font=body_font, fill=(30, 30, 30))
            y += body_font.size * 1.3
        y += body_font.size * 0.7

    fig_bottom = int(height - unit * 0.12)
    fig_top = int(max(y + unit * 0.04, fig_bottom - unit * 0.4))
    _draw_figure(draw, slide.title, accent, (margin, fig_top), (width - margin, fig_bottom), labels)

    foot_font = load_font(max(6, int(unit * 0.03)))
    foot_y = height - unit * 0.07
    draw.line(
        [margin, foot_y - unit * 0.015, width - margin, foot_y - unit * 0.015],
        fill=accent,
        width=max(1, int(unit * 0.004)),
    )
    draw.text((margin, foot_y), course_title, font=foot_font, fill=(110, 110, 110))
    number = str(slide_number)
    draw.text(
        (width - margin - draw.textlength(number, font=foot_font), foot_y),
        number,
        font=foot_font,
        fill=(110, 110, 110),
    )
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
