"""Reading the job's shared WAV (16 kHz mono 16-bit) in bounded memory.

A six-hour lecture is 1.4 GB as float32, so nothing here loads a whole file: spans are
read on demand and the loudness envelope is computed block by block.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from highlights.transcription.base import TranscriptionError

ENVELOPE_HOP_SECONDS = 0.02  # 20 ms frames: finer than a syllable, coarse enough to be cheap
_FLOOR_DBFS = -100.0  # digital silence would be -inf


@dataclass(frozen=True)
class WavInfo:
    path: str
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def wav_info(path: str | Path) -> WavInfo:
    """Open a WAV header; raise a permanent TranscriptionError when it is not 16-bit PCM."""
    path = str(path)
    if not Path(path).is_file():
        raise TranscriptionError(f"audio file not found: {path}", transient=False)
    try:
        with wave.open(path, "rb") as wav:
            width = wav.getsampwidth()
            info = WavInfo(path, wav.getframerate(), wav.getnchannels(), wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise TranscriptionError(
            f"{path} is not a PCM WAV file ({exc}); extract the audio with highlights.audio first",
            transient=False,
        ) from None
    if width != 2:
        raise TranscriptionError(
            f"{path} has {8 * width}-bit samples; transcription expects 16-bit PCM WAV",
            transient=False,
        )
    return info


def _to_mono_float(raw: bytes, channels: int) -> np.ndarray:
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels]
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples


def read_span(info: WavInfo, start: float, end: float) -> np.ndarray:
    """Samples of [start, end) seconds as mono float32 in -1..1."""
    first = max(0, min(info.frames, int(round(start * info.sample_rate))))
    last = max(first, min(info.frames, int(round(end * info.sample_rate))))
    with wave.open(info.path, "rb") as wav:
        wav.setpos(first)
        raw = wav.readframes(last - first)
    return _to_mono_float(raw, info.channels)


def loudness_envelope(info: WavInfo, hop: float = ENVELOPE_HOP_SECONDS) -> np.ndarray:
    """RMS level in dBFS of consecutive `hop`-second frames, read block by block."""
    hop_frames = max(1, int(round(hop * info.sample_rate)))
    block_frames = hop_frames * 3000  # one minute at 20 ms hops
    levels: list[np.ndarray] = []
    carry = np.zeros(0, dtype=np.float32)
    with wave.open(info.path, "rb") as wav:
        while True:
            raw = wav.readframes(block_frames)
            if not raw:
                break
            samples = np.concatenate([carry, _to_mono_float(raw, info.channels)])
            usable = len(samples) - len(samples) % hop_frames
            frames = samples[:usable].reshape(-1, hop_frames)
            carry = samples[usable:]
            levels.append(_rms_dbfs(frames))
    if len(carry):
        levels.append(_rms_dbfs(carry.reshape(1, -1)))
    return np.concatenate(levels) if levels else np.zeros(0, dtype=np.float32)


def _rms_dbfs(frames: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    with np.errstate(divide="ignore"):
        db = 20.0 * np.log10(rms)
    return np.maximum(db, _FLOOR_DBFS).astype(np.float32)
