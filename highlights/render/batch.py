"""Render all clips of a lecture, several at once.

Clips are independent ffmpeg processes, so they run in a thread pool, one clip per
core; each ffmpeg gets its share of the cores as encoder and filter threads. x264
scales well below one thread per core, so several one-thread encodes beat one
many-thread encode at a time on the same cores.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from highlights.render.clip import ClipJob, clip_span, render_clip
from highlights.render.errors import RenderError
from highlights.render.framing import original_composition
from highlights.render.options import RenderOptions
from highlights.render.source import SourceVideo, probe_source
from highlights.render.vertical import inset_color, locate_face, vertical_composition
from highlights.types import ClipPlan, LayoutResult, Region, RenderedClip, Transcript

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]  # (clips done, clips in total)


def render_clips(
    source_path: str | Path,
    plans: Sequence[ClipPlan],
    transcript: Transcript | None,
    layout: LayoutResult | None,
    options: RenderOptions | None = None,
    out_dir: str | Path = ".",
    progress: ProgressCallback | None = None,
) -> list[RenderedClip]:
    """Render every plan to `out_dir/clip_NN.{mp4,jpg,srt,vtt}`; results in rank order.

    `progress(done, total)` is called after each finished clip. On the first failure
    the clips not started yet are cancelled; once the running ones finish, the
    RenderError of the lowest-ranked failed clip is raised (its `transient` flag says
    whether a retry may help).
    """
    options = options or RenderOptions()
    options.validate()
    out_dir = Path(out_dir)
    source = probe_source(source_path)
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
                running[pool.submit(lambda p=plan: render_clip(job_for(p)))] = plan
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


__all__ = ["ProgressCallback", "SourceVideo", "render_clips"]
