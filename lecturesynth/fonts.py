"""Find a real TrueType font for slide text.

DejaVu is preferred (common on Linux, and what the committed fixtures were drawn with);
fontconfig and a few well-known paths are tried, and Pillow's own bundled TrueType
font is the last resort, so slides always get scalable, anti-aliased text.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

_CANDIDATES = {
    "regular": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/Library/Fonts/Arial.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ),
    "bold": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
        "/Library/Fonts/Arial Bold.ttf",
        "C:/Windows/Fonts/arialbd.ttf",
    ),
}

_SHIPPED = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}


@functools.cache
def font_path(weight: str = "regular") -> str | None:
    for candidate in _CANDIDATES[weight]:
        if Path(candidate).is_file():
            return candidate
    # The package's own copy (shipped for rendered titles), when present.
    shipped = Path(__file__).resolve().parent.parent / "fonts" / _SHIPPED[weight]
    if shipped.is_file():
        return str(shipped)
    if shutil.which("fc-match"):
        pattern = "DejaVu Sans:bold" if weight == "bold" else "DejaVu Sans"
        proc = subprocess.run(
            ["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, check=False
        )
        found = proc.stdout.strip()
        if (
            proc.returncode == 0
            and found.lower().endswith((".ttf", ".otf"))
            and Path(found).is_file()
        ):
            return found
    return None


@functools.cache
def load_font(size: int, weight: str = "regular") -> ImageFont.FreeTypeFont:
    path = font_path(weight)
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)  # Pillow's bundled TrueType font
