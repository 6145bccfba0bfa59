"""How clips are encoded and framed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from highlights.types import ClipFormat

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
FORMATS: tuple[ClipFormat, ...] = ("original", "vertical")


@dataclass(frozen=True)
class RenderOptions:
    """Encoder and framing choices for every clip of one render.

    Defaults: CRF 20 keeps slide text crisp (lectures are mostly still frames, which
    x264 compresses well, so the files stay small); `veryfast` is about 3x cheaper
    than `medium` for a few percent more bytes, which matters on shared CPUs. Tests
    use `ultrafast`. AAC at 128 kb/s is transparent for speech.
    """

    format: ClipFormat = "original"
    burn_captions: bool = False
    crf: int = 20
    preset: str = "veryfast"
    audio_bitrate: str = "128k"
    max_height: int = 1080  # `original` clips of taller sources are scaled down to this
    # The largest vertical frame: a lecture whose screen is narrower than 720 px gets
    # 720x1280 instead (`render.vertical.vertical_frame`).
    vertical_width: int = 1080
    vertical_height: int = 1920
    # Audiograms (clips of a recording without a usable picture) in the `original`
    # format: a 16:9 frame, since there is no source frame to copy the shape of.
    audiogram_width: int = 1280
    audiogram_height: int = 720
    # The generated picture only carries a waveform, and x264's cost follows the frames
    # the wave changes: a 30 s vertical audiogram took 25 CPU-s at 25 fps and 16 at 15
    # fps (veryfast, one thread; a vertical clip of video took 18), and a level display
    # still follows syllables at 15 frames a second.
    audiogram_fps: int = 15
    # A keyframe every 2 s keeps players' seeking (and our thumbnail search) fast.
    keyframe_seconds: float = 2.0
    max_workers: int | None = None  # clips rendered at once; None: one per core
    write_subtitles: bool = True  # SRT and VTT beside each clip
    write_thumbnail: bool = True

    def validate(self) -> None:
        from highlights.render.errors import RenderError

        problems = []
        if self.format not in FORMATS:
            problems.append(f"format {self.format!r} is not one of {', '.join(FORMATS)}")
        if not 0 <= self.crf <= 51:
            problems.append(f"crf {self.crf} is outside 0-51")
        if self.preset not in X264_PRESETS:
            problems.append(
                f"preset {self.preset!r} is not an x264 preset ({', '.join(X264_PRESETS)})"
            )
        if not re.fullmatch(r"\d+k", self.audio_bitrate):
            problems.append(f"audio bitrate {self.audio_bitrate!r} should look like '128k'")
        if self.max_height < 16 or self.vertical_width < 16 or self.vertical_height < 16:
            problems.append("output sizes must be at least 16 pixels")
        if self.vertical_width % 2 or self.vertical_height % 2:
            problems.append("vertical size must be even (yuv420p)")
        if self.audiogram_width < 16 or self.audiogram_height < 16:
            problems.append("audiogram size must be at least 16 pixels")
        if self.audiogram_width % 2 or self.audiogram_height % 2:
            problems.append("audiogram size must be even (yuv420p)")
        if not 1 <= self.audiogram_fps <= 60:
            problems.append(f"audiogram fps {self.audiogram_fps} is outside 1-60")
        if self.max_workers is not None and self.max_workers < 1:
            problems.append("max_workers must be at least 1")
        if problems:
            raise RenderError("bad render options: " + "; ".join(problems))
