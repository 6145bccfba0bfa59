"""Media for the analysis tests: small synthetic videos made here, and the fixture lectures.

`compose_lecture` draws a lecture of any arrangement (slides with builds, a moving
presenter photo with sensor noise, a black section) and encodes it with the real
ffmpeg, so layouts the committed fixtures do not cover (split_vertical, letterboxed
screens, a tiny or missing camera) are tested on real decoded video too.

`analysed_lecture(name)` runs the real ingest steps (probe, audio extraction, visual
pass) on a committed fixture lecture once per test session and caches the result.
"""

from __future__ import annotations

import atexit
import functools
import json
import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from highlights.audio import AudioInfo, extract_audio, open_pcm16
from highlights.ffmpeg import ffmpeg_exe, run_ffmpeg
from highlights.probe import probe_media
from highlights.types import MediaProbe, Region
from highlights.visual import VisualSamples, visual_pass

LECTURES = Path(__file__).parent / "fixtures" / "lectures"
# The team's awkward real media, beside the checkout (../shared/media).
SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


def ffmpeg(*args: str) -> None:
    run_ffmpeg(["-loglevel", "error", *args], timeout=300)


# --- analysed fixture lectures (cached per session) ----------------------------------

_WORK = Path(tempfile.mkdtemp(prefix="analysis-tests-"))
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)


@dataclass
class AnalysedLecture:
    name: str
    path: Path
    truth: dict
    probe: MediaProbe
    audio: AudioInfo | None
    visual: VisualSamples | None


def lecture_names() -> list[str]:
    return sorted(p.stem for p in LECTURES.glob("*.json") if (LECTURES / f"{p.stem}.mp4").exists())


@functools.cache
def analysed_lecture(name: str) -> AnalysedLecture:
    path = LECTURES / f"{name}.mp4"
    truth = json.loads((LECTURES / f"{name}.json").read_text())
    out = _WORK / name
    probe = probe_media(path)
    audio = extract_audio(path, out / "audio.wav")
    visual = visual_pass(path, out / "visual")
    return AnalysedLecture(name, path, truth, probe, audio, visual)


def scratch_dir(name: str) -> Path:
    path = _WORK / name
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- composing synthetic lectures ------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    def region(self, frame_w: int, frame_h: int) -> Region:
        return Region(
            self.x / frame_w, self.y / frame_h, self.width / frame_w, self.height / frame_h
        )


@dataclass
class LectureSpec:
    width: int = 640
    height: int = 360
    fps: int = 10
    duration: float = 30.0
    screen: Rect | None = None  # None: the whole frame
    camera: Rect | None = None  # None: no presenter camera
    slide_times: list[float] = field(default_factory=lambda: [0.0, 8.0, 16.0, 24.0])
    build_times: list[float] = field(default_factory=lambda: [4.0, 20.0])
    blank: tuple[float, float] | None = None  # the screen area goes black
    background: tuple[int, int, int] = (0, 0, 0)  # around screen and camera (letterbox)
    seed: int = 0


_WORDS = [
    "graph",
    "node",
    "edge",
    "weight",
    "path",
    "search",
    "queue",
    "stack",
    "heap",
    "tree",
    "root",
    "leaf",
    "balance",
    "rotate",
    "hash",
    "bucket",
    "load",
    "factor",
    "probe",
    "chain",
    "array",
    "index",
    "pointer",
    "cache",
    "memory",
    "page",
    "fault",
]


def _slide(width: int, height: int, number: int, bullets: int, rng_seed: int) -> np.ndarray:
    """A light slide with a coloured title bar, `bullets` text lines and a footer."""
    rng = np.random.default_rng(rng_seed * 1000 + number)
    img = np.full((height, width, 3), (244, 248, 248), np.uint8)
    accent = tuple(int(v) for v in rng.integers(40, 180, size=3))
    bar = int(height * 0.17)
    cv2.rectangle(img, (0, 0), (width, bar), accent, thickness=-1)
    scale = height / 360
    title = " ".join(rng.choice(_WORDS, size=3)).title()
    cv2.putText(
        img,
        f"{number}. {title}",
        (int(width * 0.05), int(bar * 0.65)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.9 * scale,
        (255, 255, 255),
        max(1, int(2 * scale)),
        cv2.LINE_AA,
    )
    y = bar + int(height * 0.12)
    for _ in range(bullets):
        words = " ".join(rng.choice(_WORDS, size=int(rng.integers(4, 7))))
        cv2.circle(img, (int(width * 0.07), y - int(6 * scale)), max(2, int(4 * scale)), accent, -1)
        cv2.putText(
            img,
            words,
            (int(width * 0.1), y),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6 * scale,
            (30, 30, 30),
            max(1, int(1.5 * scale)),
            cv2.LINE_AA,
        )
        y += int(height * 0.11)
    cv2.putText(
        img,
        f"Data structures - {number}",
        (int(width * 0.05), height - int(10 * scale)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.4 * scale,
        (110, 110, 110),
        1,
        cv2.LINE_AA,
    )
    return img


@functools.cache
def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


class _Camera:
    """The astronaut portrait (a real photo Haar finds a face in), swaying, with noise."""

    def __init__(self, width: int, height: int, seed: int) -> None:
        photo = _astronaut()
        aspect = width / height
        crop_h = 330
        crop_w = min(512, int(crop_h * aspect))
        x0 = int(np.clip(225 - crop_w / 2, 0, 512 - crop_w))
        self.base = cv2.resize(
            photo[0:crop_h, x0 : x0 + crop_w], (width, height), interpolation=cv2.INTER_AREA
        )
        self.width, self.height = width, height
        self.rng = np.random.default_rng(seed)

    def frame(self, t: float) -> np.ndarray:
        s = min(self.width, self.height)
        m = cv2.getRotationMatrix2D(
            (self.width / 2, self.height * 0.4),
            0.8 * math.sin(t / 1.1),
            1.05 + 0.02 * math.sin(t / 1.7),
        )
        m[:, 2] += (s * 0.015 * math.sin(t * 1.3), s * 0.01 * math.sin(t * 0.9))
        pic = cv2.warpAffine(self.base, m, (self.width, self.height), borderMode=cv2.BORDER_REFLECT)
        noise = self.rng.normal(0, 2.5, pic.shape)
        return np.clip(pic + noise, 0, 255).astype(np.uint8)


def compose_lecture(
    path: Path, spec: LectureSpec, *, audio: Path | None = None, crf: int = 23
) -> Path:
    """Encode `spec` as H.264 (yuv420p) MP4, with `audio` (a WAV) muxed in when given."""
    w, h = spec.width, spec.height
    screen = spec.screen or Rect(0, 0, w, h)
    camera = _Camera(spec.camera.width, spec.camera.height, spec.seed) if spec.camera else None
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{w}x{h}",
        "-r",
        str(spec.fps),
        "-i",
        "-",
    ]
    if audio is not None:
        cmd += ["-i", str(audio), "-c:a", "aac", "-b:a", "96k", "-shortest"]
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(spec.fps * 5),
        str(path),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    cache: dict[tuple[int, int], np.ndarray] = {}
    frames = int(round(spec.duration * spec.fps))
    for i in range(frames):
        t = i / spec.fps
        slide_no = sum(1 for s in spec.slide_times if s <= t)
        slide_start = max([s for s in spec.slide_times if s <= t], default=0.0)
        bullets = 2 + sum(1 for b in spec.build_times if slide_start < b <= t)
        key = (slide_no, bullets)
        if key not in cache:
            cache[key] = _slide(screen.width, screen.height, slide_no, bullets, spec.seed)
        img = np.full((h, w, 3), spec.background, np.uint8)
        blank = spec.blank is not None and spec.blank[0] <= t < spec.blank[1]
        img[screen.y : screen.y + screen.height, screen.x : screen.x + screen.width] = (
            0 if blank else cache[key]
        )
        if camera is not None and spec.camera is not None:
            c = spec.camera
            img[c.y : c.y + c.height, c.x : c.x + c.width] = camera.frame(t)
        proc.stdin.write(img.tobytes())
    proc.stdin.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed: {err}")
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    import wave

    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def speechlike(
    duration: float, rate: int, *, level_dbfs: float = -20.0, seed: int = 0
) -> np.ndarray:
    """Syllable-rate modulated harmonic tone: loud, voiced and choppy like speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration * rate)) / rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    # syllables about 5 a second, with short dips between words
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t + rng.uniform(0, 6)) * 1.5 + 0.3, 0, 1)
    signal = voice * envelope
    signal *= 10 ** (level_dbfs / 20) / np.sqrt(np.mean(signal**2))
    return signal.astype(np.float32)


def noise_floor(duration: float, rate: int, level_dbfs: float, *, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(duration * rate)) * 10 ** (level_dbfs / 20)).astype(np.float32)


def tone_file(path: Path, *, seconds: float = 3.0, extra: tuple[str, ...] = ()) -> Path:
    """A short test-pattern video with a tone, encoded by ffmpeg (`extra` output options)."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size=320x240:rate=25:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate=44100:duration={seconds}",
        *extra,
        str(path),
    )
    return path


def load_audio(wav_path: str | Path) -> np.ndarray:
    """The WAV's samples as float32 in [-1, 1] (what Whisper-style models expect)."""
    samples, _rate = open_pcm16(wav_path)
    out = np.empty(samples.shape[0], dtype=np.float32)
    block = 1 << 20
    for start in range(0, samples.shape[0], block):
        out[start : start + block] = samples[start : start + block]
    out *= 1.0 / 32768.0
    return out
