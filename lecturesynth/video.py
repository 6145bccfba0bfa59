"""Stream composed frames to ffmpeg as raw yuv420p and mux them with the soundtrack.

Frames are composed directly in I420: a screen state (slide, bullets, or black) is
converted once when it changes, and only the camera patch is converted per frame, so
an hour of 720p costs little more than the encoder's own work. Nothing but the current
frame is held in memory.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

from highlights.ffmpeg import ffmpeg_exe
from lecturesynth.errors import SynthError
from lecturesynth.layout import PixelRect


class I420Frame:
    """One yuv420p frame with plane views for writing rectangles in place."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.buffer = np.zeros(width * height * 3 // 2, dtype=np.uint8)
        n = width * height
        self.y = self.buffer[:n].reshape(height, width)
        self.u = self.buffer[n : n + n // 4].reshape(height // 2, width // 2)
        self.v = self.buffer[n + n // 4 :].reshape(height // 2, width // 2)

    def fill_bgr(self, image: np.ndarray) -> None:
        self.buffer[:] = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).reshape(-1)

    def paste_bgr(self, image: np.ndarray, rect: PixelRect) -> None:
        h, w = rect.height, rect.width
        planes = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).reshape(-1)
        n = w * h
        self.y[rect.y : rect.y + h, rect.x : rect.x + w] = planes[:n].reshape(h, w)
        cy, cx = rect.y // 2, rect.x // 2
        self.u[cy : cy + h // 2, cx : cx + w // 2] = planes[n : n + n // 4].reshape(h // 2, w // 2)
        self.v[cy : cy + h // 2, cx : cx + w // 2] = planes[n + n // 4 :].reshape(h // 2, w // 2)


class VideoEncoder:
    """An ffmpeg process that reads raw frames on stdin and writes H.264/AAC MP4."""

    def __init__(
        self,
        out_path: Path,
        width: int,
        height: int,
        fps: float,
        audio_path: Path,
        *,
        crf: int = 30,
        max_video_kbps: int = 400,
        audio_kbps: int = 64,
        preset: str = "veryfast",
    ) -> None:
        self.out_path = out_path
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the encoder
        gop = max(1, int(round(fps * 10)))
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-s",
            f"{width}x{height}",
            "-framerate",
            f"{fps:g}",
            "-i",
            "pipe:0",
            "-i",
            str(audio_path),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(crf),
            "-maxrate",
            f"{max_video_kbps}k",
            "-bufsize",
            f"{max_video_kbps * 2}k",
            "-g",
            str(gop),
            "-pix_fmt",
            "yuv420p",
            # OpenCV's I420 conversion is BT.601 limited range; say so in the stream.
            "-colorspace",
            "smpte170m",
            "-color_primaries",
            "smpte170m",
            "-color_trc",
            "smpte170m",
            "-color_range",
            "tv",
            "-c:a",
            "aac",
            "-b:a",
            f"{audio_kbps}k",
            "-movflags",
            "+faststart",
            str(out_path),
        ]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=self._stderr)

    def write(self, frame: I420Frame) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(frame.buffer.data)
        except BrokenPipeError:
            self._fail()

    def close(self) -> None:
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        if self._proc.wait() != 0:
            self._fail()
        self._stderr.close()

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()

    def _fail(self) -> None:
        self._proc.kill()
        self._proc.wait()
        self._stderr.seek(0)
        tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-6:]
        raise SynthError(f"ffmpeg could not encode {self.out_path.name}: " + " | ".join(tail))
