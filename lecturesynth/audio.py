"""The soundtrack: a room-noise floor with mains hum, and utterances placed on it.

The track is written block by block, so an hour-long lecture never sits in memory.
Noise filters carry their state across blocks, so block edges are inaudible and the
floor is statistically the same everywhere: silence is never digital zero.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

# Paul Kellet's pink-noise filter (-3 dB/octave) as an IIR.
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])
# A leaky integrator turns white noise brown (-6 dB/octave) without drifting off.
_BROWN_B = np.array([1.0])
_BROWN_A = np.array([1.0, -0.997])

_BLOCK_S = 10.0


@dataclass(frozen=True)
class RoomNoise:
    """Levels are RMS in dBFS; the combined floor is roughly their power sum."""

    noise_dbfs: float = -52.0
    hum_dbfs: float = -52.0
    hum_hz: float = 50.0
    seed: int = 0

    @property
    def floor_dbfs(self) -> float:
        return float(10 * np.log10(10 ** (self.noise_dbfs / 10) + 10 ** (self.hum_dbfs / 10)))


class _RawNoise:
    """Unscaled pink noise with a little brown rumble, continuous across calls."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.pink_state = np.zeros(len(_PINK_A) - 1)
        self.brown_state = np.zeros(len(_BROWN_A) - 1)
        self.next(1 << 16)  # let the filters settle before anything is used

    def next(self, n: int) -> np.ndarray:
        white = self.rng.standard_normal(n)
        pink, self.pink_state = lfilter(_PINK_B, _PINK_A, white, zi=self.pink_state)
        brown, self.brown_state = lfilter(_BROWN_B, _BROWN_A, white, zi=self.brown_state)
        # Mostly pink with a brown rumble, like ventilation in a lecture hall.
        return pink + brown * 0.02


class _NoiseStream:
    def __init__(self, room: RoomNoise, sample_rate: int) -> None:
        self.room = room
        self.sample_rate = sample_rate
        self.raw = _RawNoise(room.seed)
        # Measure the level on an identical stream so the floor's RMS is what was asked.
        calib = _RawNoise(room.seed).next(20 * sample_rate)
        self.gain = 10 ** (room.noise_dbfs / 20) / float(np.sqrt(np.mean(calib**2)))
        self.position = 0

    def block(self, n: int) -> np.ndarray:
        noise = self.raw.next(n) * self.gain
        t = (self.position + np.arange(n)) / self.sample_rate
        hz = self.room.hum_hz
        hum = np.sin(2 * np.pi * hz * t) + 0.5 * np.sin(2 * np.pi * 2 * hz * t + 0.7)
        hum += 0.25 * np.sin(2 * np.pi * 3 * hz * t + 1.9)
        hum *= 10 ** (self.room.hum_dbfs / 20) / np.sqrt((1 + 0.25 + 0.0625) / 2)
        self.position += n
        return (noise + hum).astype(np.float32)


@dataclass(frozen=True)
class PlacedUtterance:
    start_sample: int
    audio: np.ndarray  # float32 mono at the track's sample rate

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.audio)


def write_soundtrack(
    path: Path,
    total_samples: int,
    sample_rate: int,
    utterances: Sequence[PlacedUtterance],
    room: RoomNoise,
) -> None:
    """Write a 16-bit mono WAV of the noise floor with `utterances` mixed in."""
    noise = _NoiseStream(room, sample_rate)
    ordered = sorted(utterances, key=lambda u: u.start_sample)
    block = int(_BLOCK_S * sample_rate)
    first = 0  # index of the first utterance that can still reach the current block
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        for b0 in range(0, total_samples, block):
            b1 = min(b0 + block, total_samples)
            mix = noise.block(b1 - b0)
            while first < len(ordered) and ordered[first].end_sample <= b0:
                first += 1
            for u in ordered[first:]:
                if u.start_sample >= b1:
                    break
                audio = u.audio
                s0, s1 = max(u.start_sample, b0), min(u.end_sample, b1)
                mix[s0 - b0 : s1 - b0] += audio[s0 - u.start_sample : s1 - u.start_sample]
            pcm = np.clip(np.round(mix * 32767.0), -32768, 32767).astype("<i2")
            wav.writeframes(pcm.tobytes())
