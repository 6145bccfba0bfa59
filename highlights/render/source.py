"""What the renderer needs to know about the source, probed with PyAV.

A video source is `SourceVideo`; a source whose clips get a generated picture (an
audio-only recording, or a video that is blank throughout) is `SourceAudio`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from highlights.probe import video_stream
from highlights.render.errors import RenderError


@dataclass(frozen=True)
class SourceVideo:
    path: Path
    width: int  # stored pixels
    height: int
    sample_aspect: Fraction  # pixel shape; 1 for square pixels
    fps: float
    duration: float
    has_audio: bool
    audio_channels: int
    sample_rate: int = 0  # of the first audio stream; 0 without audio

    @property
    def display_width(self) -> float:
        return self.width * float(self.sample_aspect)


def probe_source(path: str | Path) -> SourceVideo:
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"source video not found: {path}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise RenderError(f"{path.name} has no video stream; highlight clips need video")
            video = container.streams.video[0]
            ctx = video.codec_context
            sar = video.sample_aspect_ratio or ctx.sample_aspect_ratio
            sample_aspect = Fraction(sar) if sar and sar > 0 else Fraction(1)
            rate = video.average_rate or video.guessed_rate or video.base_rate
            fps = float(rate) if rate else 25.0
            if container.duration:
                duration = container.duration / av.time_base
            elif video.duration and video.time_base:
                duration = float(video.duration * video.time_base)
            else:
                duration = 0.0
            audio = container.streams.audio
            return SourceVideo(
                path=path.resolve(),
                width=ctx.width,
                height=ctx.height,
                sample_aspect=sample_aspect,
                fps=fps,
                duration=duration,
                has_audio=bool(audio),
                audio_channels=audio[0].codec_context.channels if audio else 0,
                sample_rate=(audio[0].codec_context.sample_rate or 0) if audio else 0,
            )
    except av.error.FFmpegError as exc:
        raise RenderError(f"cannot read source video {path.name}: {exc}") from None


@dataclass(frozen=True)
class SourceAudio:
    """The sound of a source whose clips are audiograms; any picture in it is ignored."""

    path: Path
    duration: float
    sample_rate: int
    audio_channels: int
    has_video: bool  # True for a blank-screen video: its picture is there but not used


def has_video_stream(path: str | Path) -> bool:
    """Whether the file has a real video stream (MP3/M4A cover art does not count)."""
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"source not found: {path}")
    try:
        with av.open(str(path)) as container:
            return video_stream(container) is not None
    except av.error.FFmpegError as exc:
        raise RenderError(f"cannot read source {path.name}: {exc}") from None


def probe_audio_source(path: str | Path) -> SourceAudio:
    """The audio stream an audiogram is made from; RenderError when there is none."""
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"source not found: {path}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise RenderError(
                    f"{path.name} has neither a picture nor sound to make a clip from"
                )
            audio = container.streams.audio[0]
            ctx = audio.codec_context
            if container.duration:
                duration = container.duration / av.time_base
            elif audio.duration and audio.time_base:
                duration = float(audio.duration * audio.time_base)
            else:
                duration = 0.0
            return SourceAudio(
                path=path.resolve(),
                duration=duration,
                sample_rate=ctx.sample_rate or 0,
                audio_channels=ctx.channels or 0,
                has_video=video_stream(container) is not None,
            )
    except av.error.FFmpegError as exc:
        raise RenderError(f"cannot read source {path.name}: {exc}") from None
