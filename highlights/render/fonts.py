"""The caption font shipped with the package.

libass draws nothing, and ffmpeg still exits 0, when fontconfig finds no font for the
requested family; servers and slim containers often have no fonts at all. So captions
always name a font that ships inside the package and pass its folder to libass.
"""

from __future__ import annotations

from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
CAPTION_FONT_FILE = FONTS_DIR / "DejaVuSans-Bold.ttf"
CAPTION_FONT_FAMILY = "DejaVu Sans"  # the family name inside the TTF, bold weight


def caption_font_dir() -> Path:
    """The folder holding the caption font; raises if the package was installed without it."""
    if not CAPTION_FONT_FILE.is_file():
        raise FileNotFoundError(
            f"caption font missing: {CAPTION_FONT_FILE} (reinstall the package with its fonts)"
        )
    return FONTS_DIR
