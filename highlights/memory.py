"""Handing the memory a finished stage freed back to the system.

glibc keeps freed heap memory in its per-thread arenas for reuse instead of returning
it, so after transcription (the Whisper model, its decoder state) or slide reading
(the OCR sessions and their buffers) the process would stay hundreds of megabytes
larger through every later stage, the clip renders among them. `malloc_trim` returns
the free pages of every arena; it takes milliseconds.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl): it returns freed memory by itself
        return None
    return getattr(libc, "malloc_trim", None)


def return_freed_memory() -> None:
    """Collect garbage, then give the freed heap pages back to the system."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
