"""Locate and run the ffmpeg binary.

The binary comes from `imageio-ffmpeg` (a registry package), so nothing needs a system
install; `HIGHLIGHTS_FFMPEG` overrides it. There is no ffprobe: probing is done in-process
with PyAV.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence

from highlights.errors import HighlightsError


class FFmpegError(HighlightsError, RuntimeError):
    """ffmpeg exited non-zero; the message carries the tail of its stderr."""


@functools.cache
def ffmpeg_exe() -> str:
    override = os.environ.get("HIGHLIGHTS_FFMPEG")
    if override:
        return override
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # pragma: no cover - only when the wheel is missing
        found = shutil.which("ffmpeg")
        if not found:
            raise FFmpegError("ffmpeg not found: install imageio-ffmpeg or set HIGHLIGHTS_FFMPEG") from None
        return found


def quiet_args(loglevel: str = "error") -> list[str]:
    """The arguments every unattended ffmpeg run starts with: no banner, never read
    stdin (a worker has none), overwrite the output, print only what went wrong."""
    return ["-hide_banner", "-nostdin", "-y", "-loglevel", loglevel]


def run_ffmpeg(args: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with `args` (without the program name); raise FFmpegError on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-8:]
        raise FFmpegError(f"ffmpeg failed (exit {proc.returncode}): " + " | ".join(tail))
    return proc
