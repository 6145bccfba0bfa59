"""Render one clip: cut, frame and encode it with ffmpeg, then subtitles and thumbnail.

The cut is frame-accurate: `-ss` before `-i` seeks to the keyframe before the start
and ffmpeg decodes (and drops) up to the exact start, and the clip is re-encoded, so
it starts on the first frame at or after `plan.start`, not on a keyframe.

A source without audio gets a silent AAC track: every clip then has the same stream
layout, which players, editors and upload sites handle more predictably than a
video-only MP4.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from highlights.ffmpeg import ffmpeg_exe, quiet_args
from highlights.render.captions import clip_cues, write_ass, write_subtitle_files
from highlights.render.errors import (
    RenderError,
    is_transient_oserror,
    is_transient_output,
    last_meaningful_line,
    stderr_tail,
)
from highlights.render.fonts import caption_font_dir
from highlights.render.framing import Composition
from highlights.render.options import RenderOptions
from highlights.render.source import SourceAudio, SourceVideo
from highlights.render.thumbnail import choose_thumbnail_time
from highlights.types import ClipPlan, RenderedClip, Transcript

AUDIO_RATE = 48000
# The clip may end this far past the end of the source before it is an error rather
# than rounding (containers and transcripts disagree by a frame or two).
END_TOLERANCE = 0.5


@dataclass(frozen=True)
class ClipJob:
    plan: ClipPlan
    source: SourceVideo
    composition: Composition
    transcript: Transcript | None
    options: RenderOptions
    out_dir: Path
    threads: int  # decoder, filter and encoder threads for this clip's ffmpeg; 0: ffmpeg decides


def clip_span(plan: ClipPlan, source: SourceVideo | SourceAudio) -> tuple[float, float]:
    """The plan's span, checked against the source; the end is clamped to the source."""
    if plan.start < 0 or plan.end <= plan.start:
        raise RenderError(
            f"clip {plan.rank} has an empty or negative span ({plan.start:.2f}-{plan.end:.2f} s)"
        )
    if source.duration and plan.start >= source.duration:
        raise RenderError(
            f"clip {plan.rank} starts at {plan.start:.2f} s, after the end of the "
            f"{source.duration:.2f} s source"
        )
    if source.duration and plan.end > source.duration + END_TOLERANCE:
        raise RenderError(
            f"clip {plan.rank} ends at {plan.end:.2f} s, past the end of the "
            f"{source.duration:.2f} s source"
        )
    end = min(plan.end, source.duration) if source.duration else plan.end
    return plan.start, end


def thread_args(option: str, threads: int) -> list[str]:
    return [option, str(threads)] if threads > 0 else []


def encode_command(
    source: SourceVideo,
    start: float,
    duration: float,
    graph: str,
    out_label: str,
    options: RenderOptions,
    threads: int,
    output: Path,
) -> list[str]:
    """The ffmpeg arguments for one clip (without the program name)."""
    gop = max(1, int(round(source.fps * options.keyframe_seconds)))
    args = [
        *quiet_args("warning"),
        *thread_args("-threads", threads),
        "-ss",
        f"{start:.3f}",
        "-i",
        str(source.path),
    ]
    if not source.has_audio:
        args += ["-f", "lavfi", "-i", f"anullsrc=channel_layout=stereo:sample_rate={AUDIO_RATE}"]
    args += [
        "-filter_complex",
        graph,
        *thread_args("-filter_complex_threads", threads),
        "-map",
        f"[{out_label}]",
        "-map",
        "0:a:0" if source.has_audio else "1:a:0",
        *h264_aac_args(options, duration=duration, gop=gop, threads=threads,
                       channels=source.audio_channels, sample_rate=source.sample_rate),
    ]
    return [*args, *mp4_output(output)]


def h264_aac_args(
    options: RenderOptions,
    *,
    duration: float,
    gop: int,
    threads: int,
    channels: int,
    sample_rate: int = 0,
) -> list[str]:
    """The encoder arguments every clip shares, video or audiogram: H.264 in yuv420p (what
    every player decodes) with a keyframe each `gop` frames, AAC stereo at most 48 kHz
    (AAC tops out at 96 kHz and 48 kHz is plenty for speech)."""
    args = [
        "-t", f"{duration:.3f}",
        "-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf),
        "-pix_fmt", "yuv420p", "-g", str(gop),
        *thread_args("-threads", threads),
        "-c:a", "aac", "-b:a", options.audio_bitrate,
    ]  # fmt: skip
    if channels > 2:
        args += ["-ac", "2"]
    if sample_rate > AUDIO_RATE:
        args += ["-ar", str(AUDIO_RATE)]
    return args


def one_jpeg(output: Path | str) -> list[str]:
    """Output arguments for a single JPEG frame (thumbnails), good quality, overwritten."""
    return ["-frames:v", "1", "-q:v", "3", "-update", "1", str(output)]


def mp4_output(output: Path) -> list[str]:
    """The output arguments every clip shares: no metadata or chapters carried over from
    the source (titles, GPS tags, a chapter list of the whole lecture), index first so
    players start before the file has downloaded."""
    return ["-map_metadata", "-1", "-map_chapters", "-1", "-movflags", "+faststart",
            "-f", "mp4", str(output)]


def run(args: list[str], *, what: str, cwd: Path, timeout: float) -> None:
    """Run ffmpeg; turn every failure into a RenderError that says whether to retry."""
    try:
        proc = subprocess.run(
            [ffmpeg_exe(), *args], cwd=cwd, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        tail = stderr_tail((exc.stderr or b"").decode("utf-8", "replace"))
        raise RenderError(
            f"{what}: ffmpeg took longer than {timeout:.0f} s", transient=True, stderr_tail=tail
        ) from None
    except OSError as exc:
        raise RenderError(
            f"{what}: cannot run ffmpeg: {exc}", transient=is_transient_oserror(exc)
        ) from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        raise RenderError(
            f"{what}: {last_meaningful_line(stderr)}",
            transient=is_transient_output(stderr, proc.returncode),
            stderr_tail=stderr_tail(stderr),
        )


def probe_output(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        rate = video.average_rate
        return {
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": round(float(rate), 3) if rate else None,
            "duration": round(container.duration / av.time_base, 3) if container.duration else None,
            "has_audio": bool(container.streams.audio),
        }


def render_clip(job: ClipJob) -> RenderedClip:
    plan, source, options = job.plan, job.source, job.options
    start, end = clip_span(plan, source)
    duration = end - start
    stem = f"clip_{plan.rank:02d}"
    job.out_dir.mkdir(parents=True, exist_ok=True)
    video_path = job.out_dir / f"{stem}.mp4"
    what = f"clip {plan.rank} ({start:.2f}-{end:.2f} s of {source.path.name})"
    began = time.perf_counter()
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{stem}-", dir=job.out_dir))
    except OSError as exc:
        raise RenderError(
            f"{what}: cannot write to {job.out_dir}: {exc}", transient=is_transient_oserror(exc)
        ) from None
    try:
        cues = (
            clip_cues(job.transcript, start, end)
            if job.transcript is not None and (options.write_subtitles or options.burn_captions)
            else []
        )
        srt_path = vtt_path = None
        if options.write_subtitles and job.transcript is not None:
            srt_path, vtt_path = job.out_dir / f"{stem}.srt", job.out_dir / f"{stem}.vtt"
            write_subtitle_files(cues, srt_path, vtt_path)

        graph, out_label = job.composition.graph, "base"
        burned = options.burn_captions and bool(cues)
        if burned:
            # Relative names inside the filter graph (ffmpeg runs in `work`): no path
            # escaping, whatever characters the output folder has.
            write_ass(
                cues, work / "captions.ass", job.composition.width, job.composition.height
            )
            link_fonts(work / "fonts")
            graph += ";[base]ass=filename=captions.ass:fontsdir=fonts[v]"
            out_label = "v"

        partial = work / f"{stem}.mp4"
        run(
            encode_command(
                source, start, duration, graph, out_label, options, job.threads, partial
            ),
            what=f"rendering {what}",
            cwd=work,
            timeout=120 + 30 * duration,
        )
        os.replace(partial, video_path)
        probed = probe_output(video_path)
        encode_seconds = time.perf_counter() - began

        thumbnail_path = None
        thumb_meta: dict[str, Any] = {}
        if options.write_thumbnail:
            choice = choose_thumbnail_time(video_path, job.composition.screen_box, duration)
            thumbnail_path = job.out_dir / f"{stem}.jpg"
            run(
                [
                    *quiet_args("error"),
                    *thread_args("-threads", job.threads),
                    "-ss",
                    f"{start + choice.time:.3f}",
                    "-i",
                    str(source.path),
                    "-filter_complex",
                    job.composition.graph,
                    "-map",
                    "[base]",
                    *one_jpeg(work / "thumb.jpg"),
                ],
                what=f"thumbnail of {what}",
                cwd=work,
                timeout=120,
            )
            os.replace(work / "thumb.jpg", thumbnail_path)
            thumb_meta = {
                "thumbnail_time": choice.time,
                "thumbnail_score": round(choice.score, 3),
                "thumbnail_blank": choice.blank,
            }
    except OSError as exc:
        raise RenderError(f"{what}: {exc}", transient=is_transient_oserror(exc)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)

    metadata: dict[str, Any] = {
        "format": options.format,
        "framing": job.composition.framing,
        **probed,
        "file_size": video_path.stat().st_size,
        "planned_duration": round(duration, 3),
        **encoding_facts(options),
        "audio": "source" if source.has_audio else "silent",
        "captions_burned": burned,
        "caption_cues": len(cues),
        "render_seconds": round(time.perf_counter() - began, 3),
        "encode_seconds": round(encode_seconds, 3),
        **thumb_meta,
    }
    return rendered_clip(plan, video_path, thumbnail_path, srt_path, vtt_path, metadata)


def encoding_facts(options: RenderOptions) -> dict[str, Any]:
    """How every clip is encoded, for its metadata."""
    return {"video_codec": "h264", "encoder": "libx264", "crf": options.crf,
            "preset": options.preset, "pix_fmt": "yuv420p", "audio_codec": "aac",
            "audio_bitrate": options.audio_bitrate}


def rendered_clip(plan: ClipPlan, video_path: Path, thumbnail_path: Path | None,
                  srt_path: Path | None, vtt_path: Path | None,
                  metadata: dict[str, Any]) -> RenderedClip:
    """The finished clip's files (as strings; None where not made) and metadata."""
    return RenderedClip(
        plan=plan, video_path=str(video_path),
        thumbnail_path=str(thumbnail_path) if thumbnail_path else None,
        srt_path=str(srt_path) if srt_path else None,
        vtt_path=str(vtt_path) if vtt_path else None, metadata=metadata,
    )


def link_fonts(target: Path) -> None:
    fonts = caption_font_dir()
    try:
        target.symlink_to(fonts, target_is_directory=True)
    except OSError:  # filesystems without symlinks
        shutil.copytree(fonts, target)
