"""Cutting a long recording into API-sized pieces, at silences.

The Whisper API refuses uploads over 25 MiB and the SDK does not check, so long lectures
go up as compressed chunks. Cuts fall in the longest pause near each target so that no
word is split between two chunks (a split word comes back garbled twice, or not at all).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from highlights.ffmpeg import FFmpegError, run_ffmpeg
from highlights.transcription.base import TranscriptionError
from highlights.types import SilenceRegion


@dataclass(frozen=True)
class ChunkSpan:
    start: float
    end: float
    cut_in_silence: bool = True  # False: no pause near the target, cut at the quietest point

    @property
    def duration(self) -> float:
        return self.end - self.start


def plan_chunks(
    start: float,
    end: float,
    silences: list[SilenceRegion],
    envelope_db: np.ndarray,
    hop: float,
    *,
    max_seconds: float,
    search_seconds: float,
) -> list[ChunkSpan]:
    """Split [start, end] into spans of at most `max_seconds`.

    Each cut is placed in the last `search_seconds` before the limit: in the middle of the
    longest pause there, or, when the speaker never pauses, at the quietest 200 ms.
    """
    if max_seconds <= 0:
        raise ValueError("max_seconds must be positive")
    search_seconds = min(max(search_seconds, hop), max_seconds / 2)
    spans: list[ChunkSpan] = []
    pos = start
    while end - pos > max_seconds:
        lo, hi = pos + max_seconds - search_seconds, pos + max_seconds
        cut, in_silence = _cut_in_window(lo, hi, silences, envelope_db, hop)
        spans.append(ChunkSpan(pos, cut, in_silence))
        pos = cut
    spans.append(ChunkSpan(pos, end, True))
    return spans


def _cut_in_window(
    lo: float, hi: float, silences: list[SilenceRegion], envelope_db: np.ndarray, hop: float
) -> tuple[float, bool]:
    best: tuple[float, float] | None = None  # (clipped length, midpoint)
    for region in silences:
        a, b = max(lo, region.start), min(hi, region.end)
        if b - a > 0 and (best is None or b - a >= best[0]):
            best = (b - a, (a + b) / 2)
    if best is not None:
        return best[1], True
    first, last = int(lo / hop), min(int(hi / hop), len(envelope_db))
    if last - first < 1:
        return hi, False
    window = envelope_db[first:last].astype(np.float64)
    width = max(1, int(round(0.2 / hop)))
    smoothed = np.convolve(window, np.ones(width) / width, mode="same")
    return (first + int(np.argmin(smoothed)) + 0.5) * hop, False


def encode_chunk(
    wav_path: str, span: ChunkSpan, out_path: str | Path, *, bitrate: str = "32k"
) -> int:
    """Encode [span.start, span.end] of the WAV as mono 16 kHz Opus in Ogg; return its size.

    Opus at 32 kbit/s keeps speech intelligible for Whisper at about 14 MiB per hour, so
    a ten-minute chunk is ~2.4 MiB, far under the API's 25 MiB limit.
    """
    args = [
        "-ss", f"{span.start:.3f}", "-t", f"{span.duration:.3f}", "-i", wav_path,
        "-vn", "-ac", "1", "-ar", "16000",
        "-c:a", "libopus", "-b:a", bitrate, "-application", "voip",
        "-f", "ogg", str(out_path),
    ]  # fmt: skip
    try:
        run_ffmpeg(args, timeout=max(120.0, span.duration))
    except FFmpegError as exc:
        raise TranscriptionError(
            f"could not compress audio {span.start:.0f}-{span.end:.0f}s for upload: {exc}",
            transient=False,
        ) from None
    return os.path.getsize(out_path)
