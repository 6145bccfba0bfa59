"""Topic titles as people write them on slides: compared loosely, shown cleanly."""

from __future__ import annotations

import re
import unicodedata

_CONTINUED = re.compile(
    r"\s*(?:\((?:cont(?:inued|'d|d|\.)?|ctd\.?)\)|[-–—:,]\s*(?:cont(?:inued|'d|\.)?|ctd\.?)"
    r"|\bcont(?:inued|'d|\.))\s*$",
    re.IGNORECASE,
)
_TRAILING_NUMBER = re.compile(r"\s*[-–—(\[]?\s*\d{1,3}\s*(?:/|of)\s*\d{1,3}\s*[)\]]?\s*$")
_LEADING_NUMBER = re.compile(r"^\s*(?:slide\s*)?\d{1,3}\s*[.:)\-–—]\s+", re.IGNORECASE)


def normalize(text: str) -> str:
    """Lower-case letters and digits only: how two OCR reads of one line are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if ch.isalnum())


def clean_title(title: str) -> str:
    """A slide title as a topic title: no "(cont.)", no slide numbers, tidy spaces."""
    text = " ".join(title.split())
    previous = None
    while previous != text:
        previous = text
        text = _CONTINUED.sub("", text)
        text = _TRAILING_NUMBER.sub("", text)
        text = _LEADING_NUMBER.sub("", text)
        text = text.strip(" -–—:,;.")
    return text
