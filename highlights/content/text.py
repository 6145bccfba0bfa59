"""Tokenising and light stemming for spoken-lecture text.

Deliberately small and dependency-free: the analyzer must run offline with no data
downloads, and transcripts are plain lower-case speech, not edited prose.
"""

from __future__ import annotations

import re
from functools import lru_cache

from highlights.content.stopwords import STOP_WORDS

# Words with inner apostrophes or hyphens stay whole ("don't", "divide-and-conquer").
_WORD_RE = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


def words(text: str) -> list[str]:
    """Lower-case word tokens, apostrophes normalised."""
    return _WORD_RE.findall(text.lower().replace("’", "'"))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_RE.split(text) if s.strip()]


def is_content_word(word: str) -> bool:
    """A word that can say what a stretch of lecture is about."""
    if word in STOP_WORDS or len(word) < 3:
        return False
    return not word.replace("-", "").isdigit()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Light suffix stripping: enough to join plurals and verb forms, never aggressive.

    "collisions" -> "collision", "hashing" -> "hash", "hashed" -> "hash",
    "probabilities" -> "probability", "sorted" -> "sort", "running" -> "run".
    """
    w = word.replace("'", "")
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is", "ous")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            base = w[: -len(suffix)]
            if not any(v in base for v in "aeiouy"):
                break
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # "running" -> "run", "stopped" -> "stop"
            w = base
            break
    if w.endswith("ly") and len(w) > 5:
        w = w[:-2]
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]  # "compute"/"computing" and "merge"/"merged" meet at "comput"/"merg"
    return w


def content_stems(text: str) -> list[str]:
    """The stems of a text's content words, in order."""
    return [stem(w) for w in words(text) if is_content_word(w)]
