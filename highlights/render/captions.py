"""Subtitle files beside each clip, and the ASS script for burned-in captions.

SRT and VTT come from highlights.subtitles (cues rebased to the clip's own time).
Burned captions use our own ASS script rather than ffmpeg's SRT conversion so that
the play resolution equals the output size: font size and margins are then real
pixels, the same on a 1280x720 lecture frame as on a 1080x1920 phone frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from highlights.render.fonts import CAPTION_FONT_FAMILY
from highlights.types import Transcript


class CueLike(Protocol):
    start: float
    end: float
    text: str


def clip_cues(transcript: Transcript, start: float, end: float) -> list[CueLike]:
    """Cues of the words inside [start, end], with times relative to `start`."""
    from highlights.subtitles import cues_for_span

    return list(cues_for_span(transcript, start, end, rebase=True))


def write_subtitle_files(cues: Sequence[CueLike], srt_path: Path, vtt_path: Path) -> None:
    from highlights.subtitles import write_srt, write_vtt

    write_srt(list(cues), srt_path)
    write_vtt(list(cues), vtt_path)


def ass_time(seconds: float) -> str:
    centis = max(0, int(round(seconds * 100)))
    h, rest = divmod(centis, 360000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def ass_text(text: str) -> str:
    # Braces start override blocks and a backslash starts a tag in ASS; neither may
    # reach libass from a transcript.
    cleaned = text.replace("\\", "\u29f5").replace("{", "(").replace("}", ")")
    return r"\N".join(line.strip() for line in cleaned.splitlines() if line.strip())


def caption_style(width: int, height: int) -> tuple[int, int]:
    """Font size and bottom margin in pixels for an output frame."""
    portrait = height > width
    if portrait:
        # Phone frame: large type, lifted above the apps' bottom controls.
        return max(16, round(width * 0.05)), round(height * 0.12)
    return max(16, round(height * 0.055)), round(height * 0.05)


def ass_header(width: int, height: int) -> list[str]:
    """An ASS script's header for a picture of this size, up to its style lines."""
    return [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
    ]


def write_ass(cues: Sequence[CueLike], path: Path, width: int, height: int) -> None:
    font_size, margin_v = caption_style(width, height)
    margin_h = round(width * 0.06)
    outline = max(1, round(font_size * 0.08))
    lines = [
        *ass_header(width, height),
        f"Style: Caption,{CAPTION_FONT_FAMILY},{font_size},&H00FFFFFF,&H00FFFFFF,&H00000000,"
        f"&H80000000,-1,0,0,0,100,100,0,0,1,{outline},0,2,{margin_h},{margin_h},{margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    for cue in cues:
        if cue.end <= cue.start or not cue.text.strip():
            continue
        lines.append(
            f"Dialogue: 0,{ass_time(cue.start)},{ass_time(cue.end)},Caption,,0,0,0,,"
            f"{ass_text(cue.text)}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
