"""Audiograms: clips with a generated picture, for recordings without a usable one.

An audio-only lecture, or a screen recording that stayed black, has no picture to cut
from, yet its clips are still worth sharing, and players and upload sites want a video
track. The picture is a card (the clip's title and the lecture's name) with a waveform
of the clip's own sound that moves with the voice, plus burned captions when the
render asks for them. Everything is drawn by one ffmpeg run from the audio alone:

    color (background) -> ass (card text) -> overlay showwaves (the sound) -> [ass captions]

The card never changes, so x264 spends its time and bits on the waveform band only and
an audiogram costs about what a normal clip of the same length does (bench/audiogram.py).
Card text goes through libass like the captions, not drawtext: libass wraps long
titles and uses the font shipped with the package.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from highlights.ffmpeg import quiet_args
from highlights.render.captions import (
    ass_header,
    ass_text,
    clip_cues,
    write_ass,
    write_subtitle_files,
)
from highlights.render.clip import (
    clip_span,
    encoding_facts,
    h264_aac_args,
    link_fonts,
    mp4_output,
    one_jpeg,
    probe_output,
    rendered_clip,
    run,
    thread_args,
)
from highlights.render.errors import RenderError, is_transient_oserror
from highlights.render.fonts import CAPTION_FONT_FAMILY
from highlights.render.framing import PixelRect, even
from highlights.render.options import RenderOptions
from highlights.render.source import SourceAudio
from highlights.types import ClipPlan, RenderedClip, Transcript

# Colours as ffmpeg's 0xRRGGBB. A dark card: white text and captions stay legible and
# the waveform's light blue stands out without glare on phones.
BACKGROUND = "0x14213D"
WAVE_COLOUR = "0x8FD3FF"
# The same colours in libass's &HAABBGGRR order.
TITLE_ASS = "&H00FFFFFF"
LECTURE_ASS = "&H00FFD38F"  # the waveform's blue
# The waveform: samples (columns) drawn per frame, and the band of the voice it shows.
WAVE_COLUMNS = 320
WAVE_LOWPASS_HZ = 400
THUMBNAIL_PREROLL = 0.5  # seconds of sound fed to the waveform before the thumbnail frame


@dataclass(frozen=True)
class AudiogramCard:
    """What the card says: the clip's title and the lecture it comes from."""

    title: str
    lecture: str


@dataclass(frozen=True)
class AudiogramLayout:
    """Where the card's parts sit in the output frame, in pixels.

    The waveform band lies between the title block and the caption area (captions use
    `captions.caption_style`, the same placement as on any other clip).
    """

    width: int
    height: int
    wave: PixelRect
    lecture_top: int  # top of the lecture name line
    lecture_size: int
    title_top: int  # top of the (wrapped) title block
    title_size: int
    side_margin: int
    framing: str  # "audiogram" or "audiogram_vertical"


def lecture_name(filename: str) -> str:
    """A readable lecture name from a file name: `cs101_week-3.m4a` -> `cs101 week 3`."""
    stem = Path(filename).stem
    return " ".join(stem.replace("_", " ").replace("-", " ").split()) or stem


def audiogram_layout(options: RenderOptions) -> AudiogramLayout:
    if options.format == "vertical":
        # Portrait: title high up, a tall waveform mid-frame, captions lifted above the
        # apps' bottom controls as on other vertical clips.
        return _layout(options.vertical_width, options.vertical_height, wave_top=0.42,
                       wave_height=0.24, lecture_top=0.10, lecture_size=0.022,
                       title_size=0.038, framing="audiogram_vertical")
    return _layout(options.audiogram_width, options.audiogram_height, wave_top=0.47,
                   wave_height=0.30, lecture_top=0.07, lecture_size=0.04, title_size=0.075,
                   framing="audiogram")


def _layout(w: int, h: int, *, wave_top: float, wave_height: float, lecture_top: float,
            lecture_size: float, title_size: float, framing: str) -> AudiogramLayout:
    """A layout from its proportions of the frame (title block at 15% of the height)."""
    wave = PixelRect(even(w * 0.06), even(h * wave_top), even(w * 0.88), even(h * wave_height))
    return AudiogramLayout(w, h, wave, round(h * lecture_top), max(12, round(h * lecture_size)),
                           round(h * 0.15), max(16, round(h * title_size)), round(w * 0.08),
                           framing)


def write_card_ass(card: AudiogramCard, layout: AudiogramLayout, path: Path) -> None:
    """The card's text as an ASS script lasting the whole clip (libass wraps the title)."""
    m = layout.side_margin
    style = (
        "{name},{font},{size},{colour},{colour},&H00000000,&H00000000,-1,0,0,0,100,100,0,0,"
        "1,0,0,8,{m},{m},{top},1"
    )
    lines = [
        *ass_header(layout.width, layout.height),
        "Style: "
        + style.format(
            name="Lecture",
            font=CAPTION_FONT_FAMILY,
            size=layout.lecture_size,
            colour=LECTURE_ASS,
            m=m,
            top=layout.lecture_top,
        ),
        "Style: "
        + style.format(
            name="Title",
            font=CAPTION_FONT_FAMILY,
            size=layout.title_size,
            colour=TITLE_ASS,
            m=m,
            top=layout.title_top,
        ),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    # One long event each: the card is the same on every frame of the clip.
    end = "9:59:59.00"
    if card.lecture.strip():
        lines.append(
            f"Dialogue: 0,0:00:00.00,{end},Lecture,,0,0,0,,{ass_text(card.lecture)}"
        )
    if card.title.strip():
        lines.append(f"Dialogue: 0,0:00:00.00,{end},Title,,0,0,0,,{ass_text(card.title)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def picture_graph(layout: AudiogramLayout, fps: int, seconds: float) -> str:
    """The filter graph from `[0:a]` to the card with its moving waveform, `[base]`.

    showwaves draws each output frame from the samples of that frame's own 1/fps
    seconds, one column per sample. So the sound (mixed to mono: a 5.1 source would
    draw six lines over each other) is resampled to exactly WAVE_COLUMNS samples a frame
    and low-passed to the voice's fundamental and first harmonics, drawn that narrow and
    stretched to the band. The wave is then a few smooth swells a frame rather than
    hundreds of one-pixel spikes: it reads as a voice, and x264 needs about a third of
    the bits and time a full-rate waveform costs (measured by bench/audiogram.py).
    `scale=cbrt` lifts speech at -20 dBFS to about half the band while hiss at -60 dBFS
    stays near the centre line; `draw=full` paints every sample in full colour.
    showwaves draws on a transparent background: only the wave covers the card.
    """
    w = layout.wave
    rate = WAVE_COLUMNS * fps
    return (
        f"color=c={BACKGROUND}:s={layout.width}x{layout.height}:r={fps}:d={seconds:.3f},"
        "format=yuv420p,ass=filename=card.ass:fontsdir=fonts[card];"
        f"[0:a]aformat=channel_layouts=mono,aresample={rate},lowpass=f={WAVE_LOWPASS_HZ},"
        f"showwaves=s={WAVE_COLUMNS}x{w.height}:n=1:mode=cline:rate={fps}:scale=cbrt:"
        f"draw=full:colors={WAVE_COLOUR},scale={w.width}:{w.height}:flags=bilinear[wave];"
        f"[card][wave]overlay={w.x}:{w.y}:format=auto:shortest=1,format=yuv420p[base]"
    )


@dataclass(frozen=True)
class AudiogramJob:
    plan: ClipPlan
    source: SourceAudio
    card: AudiogramCard
    transcript: Transcript | None
    options: RenderOptions
    out_dir: Path
    threads: int  # filter and encoder threads for this clip's ffmpeg; 0: ffmpeg decides
    reason: str  # why this clip is an audiogram, for its metadata


def encode_command(
    job: AudiogramJob,
    layout: AudiogramLayout,
    graph: str,
    out_label: str,
    start: float,
    duration: float,
    output: Path,
) -> list[str]:
    options, threads = job.options, job.threads
    fps = options.audiogram_fps
    args = [
        *quiet_args("warning"),
        *thread_args("-threads", threads),
        # Input-side -t: the decoder stops at the clip's end, and the waveform with it.
        "-ss",
        f"{start:.3f}",
        "-t",
        f"{duration:.3f}",
        "-i",
        str(job.source.path),
        "-filter_complex",
        graph,
        *thread_args("-filter_complex_threads", threads),
        "-map",
        f"[{out_label}]",
        "-map",
        "0:a:0",
        *h264_aac_args(
            options, duration=duration, gop=max(1, round(fps * options.keyframe_seconds)),
            threads=threads, channels=job.source.audio_channels,
            sample_rate=job.source.sample_rate,
        ),
    ]
    return [*args, *mp4_output(output)]


def loudest_moment(clip_path: Path, duration: float, fps: int) -> tuple[float, float]:
    """The thumbnail time (seconds into the clip) where the voice is loudest, and its
    level in dBFS: the waveform then shows speech rather than a flat line.

    The clip's own AAC track is cut into frame-long windows; a window scores the
    quietest of itself and its two neighbours, so the frame ffmpeg draws there (which
    may show the samples just before or after) is loud too. The clip's first and last
    tenth are left out, as for video thumbnails, where fades and half words sit.
    """
    rate = 8000  # plenty for a level; resampling makes every source look the same
    hop = rate // fps
    chunks: list[np.ndarray] = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    with av.open(str(clip_path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    windows = samples[: samples.size // hop * hop].reshape(-1, hop).astype(np.float64)
    power = (windows**2).mean(axis=1) if windows.size else np.zeros(0)
    first, last = int(0.1 * duration * fps), int(0.9 * duration * fps)
    if power.size < 3 or last <= first:
        return min(duration / 2, 0.5), -120.0
    padded = np.concatenate([[power[0]], power, [power[-1]]])
    steady = np.minimum(np.minimum(padded[:-2], padded[1:-1]), padded[2:])
    k = first + int(np.argmax(steady[first : min(last, power.size)]))
    return round(k / fps, 3), round(float(10 * np.log10(max(power[k], 1e-12))), 1)


def render_audiogram(job: AudiogramJob) -> RenderedClip:
    """Render one clip as an audiogram: `clip_NN.mp4`, `.jpg`, `.srt`, `.vtt` in out_dir.

    Files appear under their final names only when complete (written in a scratch
    folder, then moved), so a failure leaves no half-written clip behind.
    """
    plan, source, options = job.plan, job.source, job.options
    start, end = clip_span(plan, source)
    duration = end - start
    layout = audiogram_layout(options)
    stem = f"clip_{plan.rank:02d}"
    what = f"audiogram clip {plan.rank} ({start:.2f}-{end:.2f} s of {source.path.name})"
    began = time.perf_counter()
    try:
        job.out_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{stem}-", dir=job.out_dir))
    except OSError as exc:
        raise RenderError(
            f"{what}: cannot write to {job.out_dir}: {exc}", transient=is_transient_oserror(exc)
        ) from None
    video_path = job.out_dir / f"{stem}.mp4"
    try:
        cues = (
            clip_cues(job.transcript, start, end)
            if job.transcript is not None and (options.write_subtitles or options.burn_captions)
            else []
        )
        # Relative names inside the filter graph (ffmpeg runs in `work`): no path
        # escaping, whatever characters the output folder has.
        link_fonts(work / "fonts")
        write_card_ass(job.card, layout, work / "card.ass")
        picture = picture_graph(layout, options.audiogram_fps, duration)
        graph, out_label = picture, "base"
        burned = options.burn_captions and bool(cues)
        if burned:
            write_ass(cues, work / "captions.ass", layout.width, layout.height)
            graph += ";[base]ass=filename=captions.ass:fontsdir=fonts[v]"
            out_label = "v"

        partial = work / f"{stem}.mp4"
        run(
            encode_command(job, layout, graph, out_label, start, duration, partial),
            what=f"rendering {what}",
            cwd=work,
            timeout=120 + 30 * duration,
        )
        probed = probe_output(partial)
        encode_seconds = time.perf_counter() - began

        thumb_meta: dict[str, Any] = {}
        if options.write_thumbnail:
            # A frame of the same picture without burned captions, so thumbnails stay
            # clean like those of other clips, at the clip's loudest candidate moment.
            moment, level = loudest_moment(partial, duration, options.audiogram_fps)
            # showwaves fills its band only after its first frame: start a little
            # earlier and take the frame at the moment itself (output-side -ss).
            preroll = min(THUMBNAIL_PREROLL, start + moment)
            run(
                [
                    *quiet_args("error"),
                    *thread_args("-threads", job.threads),
                    "-ss",
                    f"{start + moment - preroll:.3f}",
                    "-t",
                    f"{preroll + 1:.3f}",
                    "-i",
                    str(source.path),
                    "-filter_complex",
                    picture_graph(layout, options.audiogram_fps, preroll + 1),
                    "-map",
                    "[base]",
                    "-ss",
                    f"{preroll:.3f}",
                    *one_jpeg("thumb.jpg"),
                ],
                what=f"thumbnail of {what}",
                cwd=work,
                timeout=120,
            )
            thumb_meta = {
                "thumbnail_time": moment,
                "thumbnail_level_dbfs": level,
                "thumbnail_blank": False,
            }

        srt_path = vtt_path = None
        if options.write_subtitles and job.transcript is not None:
            write_subtitle_files(cues, work / f"{stem}.srt", work / f"{stem}.vtt")
            srt_path, vtt_path = job.out_dir / f"{stem}.srt", job.out_dir / f"{stem}.vtt"
            os.replace(work / f"{stem}.srt", srt_path)
            os.replace(work / f"{stem}.vtt", vtt_path)
        thumbnail_path = None
        if thumb_meta:
            thumbnail_path = job.out_dir / f"{stem}.jpg"
            os.replace(work / "thumb.jpg", thumbnail_path)
        os.replace(partial, video_path)
    except OSError as exc:
        raise RenderError(f"{what}: {exc}", transient=is_transient_oserror(exc)) from None
    except av.error.FFmpegError as exc:
        raise RenderError(f"{what}: cannot read the rendered clip: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)

    metadata: dict[str, Any] = {
        "format": options.format,
        "framing": layout.framing,
        "picture": "audiogram",
        "audiogram_reason": job.reason,
        **probed,
        "file_size": video_path.stat().st_size,
        "planned_duration": round(duration, 3),
        **encoding_facts(options),
        "audio": "source",
        "captions_burned": burned,
        "caption_cues": len(cues),
        "render_seconds": round(time.perf_counter() - began, 3),
        "encode_seconds": round(encode_seconds, 3),
        **thumb_meta,
    }
    return rendered_clip(plan, video_path, thumbnail_path, srt_path, vtt_path, metadata)
