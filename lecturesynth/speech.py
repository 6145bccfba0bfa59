"""Narration: one espeak-ng utterance per sentence, trimmed, levelled and resampled.

Synthesis runs espeak-ng as a subprocess and is cached on disk by a hash of everything
that shapes the waveform, so long lectures that cycle through the topic library pay for
each distinct sentence once.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from lecturesynth.errors import SynthError

ESPEAK_RATE = 22050

# Samples quieter than this (relative to full scale, after levelling) at the edges of
# an utterance are espeak's own padding, not speech: trimming them makes the ground
# truth's speech start/end the first/last audible sample.
_TRIM_DBFS = -45.0
_FADE_S = 0.004


@dataclass(frozen=True)
class Voice:
    name: str = "en-us"
    words_per_minute: int = 150
    pitch: int = 45  # espeak 0-99; a little lower than its default 50 sounds less robotic
    speech_rms_dbfs: float = -20.0


def espeak_binary() -> str:
    found = shutil.which("espeak-ng")
    if not found:
        raise SynthError(
            "espeak-ng not found: install it (apt-get install espeak-ng) to synthesise narration"
        )
    return found


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "highlights-synth" / "speech"


def _espeak_wav(text: str, voice: Voice) -> np.ndarray:
    cmd = [
        espeak_binary(),
        "-v",
        voice.name,
        "-s",
        str(voice.words_per_minute),
        "-p",
        str(voice.pitch),
        "--stdout",
        text,
    ]
    proc = subprocess.run(cmd, capture_output=True, check=False, timeout=60)
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise SynthError(f"espeak-ng failed for voice {voice.name!r}: {err or 'no audio produced'}")
    with wave.open(io.BytesIO(proc.stdout)) as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise SynthError("espeak-ng produced an unexpected WAV format (need 16-bit mono)")
        frames = wav.readframes(wav.getnframes())
        rate = wav.getframerate()
    if rate != ESPEAK_RATE:
        raise SynthError(f"espeak-ng produced {rate} Hz audio; expected {ESPEAK_RATE} Hz")
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def _level_and_trim(raw: np.ndarray, sample_rate: int, voice: Voice) -> np.ndarray:
    audio = resample_poly(raw, sample_rate, ESPEAK_RATE).astype(np.float32)
    loud = np.abs(audio) > 1e-4
    if not loud.any():
        raise SynthError("espeak-ng produced silence")
    # Level by the RMS of the voiced part, so short and long sentences sound alike.
    active = audio[loud]
    gain = 10 ** (voice.speech_rms_dbfs / 20) / float(np.sqrt(np.mean(active**2)))
    peak = float(np.max(np.abs(audio))) * gain
    if peak > 0.89:  # keep 1 dB of headroom before the room noise is added
        gain *= 0.89 / peak
    audio *= gain
    audible = np.flatnonzero(np.abs(audio) > 10 ** (_TRIM_DBFS / 20))
    audio = audio[audible[0] : audible[-1] + 1].copy()
    fade = min(int(_FADE_S * sample_rate), len(audio) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        audio[:fade] *= ramp
        audio[-fade:] *= ramp[::-1]
    return audio


class SpeechSynthesizer:
    """Turns sentences into levelled, trimmed float32 mono at `sample_rate`."""

    def __init__(self, voice: Voice, sample_rate: int, cache_dir: Path | None = None) -> None:
        self.voice = voice
        self.sample_rate = sample_rate
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()

    def _cache_path(self, text: str) -> Path:
        v = self.voice
        key = f"v2|{v.name}|{v.words_per_minute}|{v.pitch}|{v.speech_rms_dbfs}|{self.sample_rate}|{text}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        return self.cache_dir / f"{digest}.npy"

    def synthesize(self, text: str) -> np.ndarray:
        path = self._cache_path(text)
        if path.exists():
            try:
                return np.load(path)
            except (OSError, ValueError):
                pass  # a half-written cache entry from an interrupted run: synthesise again
        audio = _level_and_trim(_espeak_wav(text, self.voice), self.sample_rate, self.voice)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, audio)
            tmp.replace(path)
        except OSError:
            pass  # the cache is an optimisation; a read-only home must not stop generation
        return audio
