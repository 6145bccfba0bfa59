"""Render all clips of a lecture, several at once.

Clips are independent ffmpeg processes, so they run in a thread pool, one clip per
core; each ffmpeg gets its share of the cores as encoder and filter threads. x264
scales well below one thread per core, so several one-thread encodes beat one
many-thread encode at a time on the same cores.

A source without a picture to show (no video stream, or a video the caller found blank
throughout) gets audiograms instead: the same files, with a generated picture
(highlights.render.audiogram).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Literal

from highlights.render.audiogram import (
    AudiogramCard,
    AudiogramJob,
    lecture_name,
    render_audiogram,
)
from highlights.render.clip import ClipJob, clip_span, render_clip
from highlights.render.errors import RenderError
from highlights.render.framing import original_composition
from highlights.render.options import RenderOptions
from highlights.render.source import (
    SourceAudio,
    SourceVideo,
    has_video_stream,
    probe_audio_source,
    probe_source,
)
from highlights.render.vertical import inset_color, locate_face, vertical_composition
from highlights.types import ClipPlan, LayoutResult, Region, RenderedClip, Transcript

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]  # (clips done, clips in total)
# "auto": audiograms when the source has no video stream, cut video otherwise;
# "audiogram": the caller knows the picture is useless (blank throughout).
Picture = Literal["auto", "video", "audiogram"]
NO_VIDEO_REASON = "no video stream"


def render_clips(
    source_path: str | Path,
    plans: Sequence[ClipPlan],
    transcript: Transcript | None,
    layout: LayoutResult | None,
    options: RenderOptions | None = None,
    out_dir: str | Path = ".",
    progress: ProgressCallback | None = None,
    *,
    picture: Picture = "auto",
    picture_reason: str = "",
    lecture: str = "",
) -> list[RenderedClip]:
    """Render every plan to `out_dir/clip_NN.{mp4,jpg,srt,vtt}`; results in rank order.

    Audiogram clips (see `picture`) show `lecture` (default: from the file name) and
    each plan's title on their card, and `picture_reason` in their metadata.

    `progress(done, total)` is called after each finished clip. On the first failure
    the clips not started yet are cancelled; once the running ones finish, the
    RenderError of the lowest-ranked failed clip is raised (its `transient` flag says
    whether a retry may help).
    """
    options = options or RenderOptions()
    options.validate()
    out_dir = Path(out_dir)
    if picture == "auto":
        picture = "video" if has_video_stream(source_path) else "audiogram"
        picture_reason = picture_reason or ("" if picture == "video" else NO_VIDEO_REASON)
    source: SourceVideo | SourceAudio = (
        probe_audio_source(source_path) if picture == "audiogram" else probe_source(source_path)
    )
    lecture = lecture or lecture_name(source.path.name)
    plans = sorted(plans, key=lambda p: p.rank)
    if len({p.rank for p in plans}) != len(plans):
        raise RenderError("clip plans have duplicate ranks; output names would collide")
    for plan in plans:
        clip_span(plan, source)  # reject bad plans before spending any CPU
    if not plans:
        return []

    cores = os.cpu_count() or 1
    workers = min(len(plans), options.max_workers or cores)
    # One clip at a time: let ffmpeg size its own thread pools (x264 uses 1.5x the
    # cores, which keeps its lookahead busy). Several at once: split the cores.
    threads = 0 if workers == 1 else max(1, cores // workers)

    def job_for(plan: ClipPlan) -> ClipJob:
        assert isinstance(source, SourceVideo)
        if options.format == "vertical":
            face = locate_face(source, layout, [plan.start + plan.duration / 2, plan.start + 1.0])
            color = inset_color(source, layout, plan.start + plan.duration / 2)
            composition = vertical_composition(source, layout, options, face, color)
        else:
            screen = (
                layout.screen_region
                if layout and not layout.screen_region.is_empty
                else Region.full()
            )
            composition = original_composition(source, screen, options)
        return ClipJob(plan, source, composition, transcript, options, out_dir, threads)

    def render_one(plan: ClipPlan) -> RenderedClip:
        if isinstance(source, SourceAudio):
            card = AudiogramCard(plan.title or plan.topic, lecture)
            return render_audiogram(
                AudiogramJob(
                    plan, source, card, transcript, options, out_dir, threads, picture_reason
                )
            )
        return render_clip(job_for(plan))

    results: dict[int, RenderedClip] = {}
    errors: dict[int, RenderError] = {}
    # Clips are handed to the pool one at a time as workers free up (rather than all
    # queued at once), so that after a failure no further clip starts: the job fails,
    # or is retried, as a whole, and more clips would only burn CPU.
    waiting = list(plans)
    running: dict[Future[RenderedClip], ClipPlan] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render") as pool:
        while waiting or running:
            while waiting and len(running) < workers and not errors:
                plan = waiting.pop(0)
                running[pool.submit(lambda p=plan: render_one(p))] = plan
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: running[f].rank):
                plan = running.pop(future)
                try:
                    results[plan.rank] = future.result()
                except RenderError as exc:
                    errors[plan.rank] = exc
                    log.warning("clip %d failed: %s", plan.rank, exc)
                    continue
                if progress is not None:
                    progress(len(results), len(plans))
    if errors:
        raise errors[min(errors)]
    return [results[p.rank] for p in plans]


__all__ = ["Picture", "ProgressCallback", "SourceVideo", "render_clips"]
