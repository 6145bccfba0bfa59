"""Handing the memory a finished stage freed back to the system.

glibc keeps freed heap memory in its per-thread arenas for reuse instead of returning
it, so after transcription (the Whisper model, its decoder state) or slide reading
(the OCR sessions and their buffers) the process would stay hundreds of megabytes
larger through every later stage, the clip renders among them. `malloc_trim` returns
the free pages of every arena; it takes milliseconds. A process that runs the pipeline
also caps how many arenas there are (`limit_heap_arenas`), since every one of them keeps
its own high-water mark.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import sys
from collections.abc import Callable

# mallopt's parameter number for the arena limit (glibc's malloc.h)
_M_ARENA_MAX = -8
# Heap arenas a pipeline process may have. glibc gives each thread that allocates its
# own arena, up to 8 per core, and an arena keeps what its thread freed for that thread.
# A pipeline runs the transcriber's, the OCR readers', the video decoder's and Prefect's
# threads at once, each arena holding its own high-water mark: with two arenas
# `highlights process` on 10 minutes of the benchmark lecture peaked at 866-928 MB
# against 1066-1104, for the same CPU time (docs/benchmarks.md, "Memory").
PIPELINE_ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl): it returns freed memory by itself
        return None


def _malloc_trim() -> Callable[[int], int] | None:
    libc = _libc()
    return None if libc is None else getattr(libc, "malloc_trim", None)


def limit_heap_arenas(arenas: int = PIPELINE_ARENAS) -> bool:
    """Cap the heap arenas glibc creates from now on; True when the cap was set.

    Call it as a process starts, before its threads allocate: arenas that exist stay.
    A limit the user set (MALLOC_ARENA_MAX, or glibc.malloc.arena_max in
    GLIBC_TUNABLES) is left as it is. Child processes (ffmpeg) are not affected: x264's
    threads allocate in parallel and would wait for each other.
    """
    if "MALLOC_ARENA_MAX" in os.environ or "arena_max" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    libc = _libc()
    mallopt = None if libc is None else getattr(libc, "mallopt", None)
    return bool(mallopt is not None and mallopt(_M_ARENA_MAX, arenas) == 1)


def return_freed_memory() -> None:
    """Collect garbage, then give the freed heap pages back to the system."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
