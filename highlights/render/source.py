"""What the renderer needs to know about the source video, probed with PyAV."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

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
            )
    except av.error.FFmpegError as exc:
        raise RenderError(f"cannot read source video {path.name}: {exc}") from None
