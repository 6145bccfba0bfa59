"""Stage `compilation`: render the chosen clips and record them.

Every file is uploaded before any `clips` row is written, and the rows are written in
one transaction, so no row ever points at an object that is not in the store.

A lecture without a picture worth cutting (no video stream, or a video that is blank
throughout, e.g. a black screen recording with sound) gets audiogram clips: the same
rows and files, with a generated picture (highlights.render.audiogram). Why is noted
in each clip's metadata and in the stage's log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from prefect import task
from sqlalchemy import select

from db.engine import session_scope
from db.loaders import load_layout, load_topics, replace_stage_rows
from db.models import Clip, Job, new_id
from highlights.chapters import build_chapters, format_chapters
from highlights.frame_stats import BLANK_THROUGHOUT_SHARE, blank_share
from highlights.render import Picture, RenderOptions, render_clips
from highlights.render.audiogram import lecture_name
from highlights.types import ClipPlan
from tasks.artifacts import load_transcript
from tasks.context import CHAPTERS_TXT, CLIP_PLAN_JSON, VISUAL_DIR, StageContext, StageResult
from tasks.stage import TASK_DEFAULTS, Stage, progress_reporter

AGENT = "ffmpeg libx264/aac"


@dataclass(frozen=True)
class PictureChoice:
    """Cut the lecture's own picture, or generate an audiogram, and why."""

    picture: Picture
    reason: str  # empty for "video"
    lecture: str  # the lecture's name, shown on audiogram cards


def _blank_video_share(ctx: StageContext) -> float | None:
    """Share of the visual samples whose whole frame is blank; None when not known.

    Only the per-sample statistics are fetched (a few KB), not the sampled frames.
    """
    key = f"{ctx.work_key(VISUAL_DIR)}/stats.npz"
    if not ctx.storage.exists(key):
        return None
    with np.load(ctx.fetch(key, f"{VISUAL_DIR}/stats.npz")) as stats:
        mean, std = stats["luma_mean"], stats["luma_std"]
    return blank_share(mean, std) if mean.size else None


def choose_picture(ctx: StageContext) -> PictureChoice:
    with session_scope(ctx.engine) as session:
        job = session.scalars(select(Job).where(Job.job_id == ctx.job_id)).one()
        has_video = bool((job.video_metadata or {}).get("has_video", True))
        has_audio = bool((job.video_metadata or {}).get("has_audio", True))
        name = lecture_name(job.filename or "")
    if not has_video:
        return PictureChoice("audiogram", "no video stream: clips are audiograms (a title card "
                             "with the clip's waveform)", name)
    # An audiogram draws the sound: a blank video without audio keeps its own picture.
    share = _blank_video_share(ctx) if has_audio else None
    if share is not None and share >= BLANK_THROUGHOUT_SHARE:
        return PictureChoice("audiogram", f"the video is blank throughout ({share:.0%} of the "
                             "sampled frames): clips are audiograms (a title card with the "
                             "clip's waveform)", name)
    return PictureChoice("video", "", name)


def run(ctx: StageContext, source_key: str, duration: float, options: dict[str, Any],
        progress: Callable[[float], None] | None = None) -> StageResult:
    stored = ctx.get_json(ctx.work_key(CLIP_PLAN_JSON))
    plan_fields = set(ClipPlan.__dataclass_fields__)
    plans = [ClipPlan(**{k: v for k, v in p.items() if k in plan_fields}) for p in stored["plans"]]
    notes: list[str] = []
    choice = choose_picture(ctx)
    if choice.reason:
        notes.append(choice.reason)
    segment_ids = [p.get("segment_id") for p in stored["plans"]]
    source = ctx.fetch(source_key, "source" + Path(source_key).suffix) if plans else Path(source_key)
    render_options = RenderOptions(format=options.get("format", ctx.settings.clip_format),
                                   burn_captions=bool(options.get("burn_captions", False)))
    out_dir = ctx.scratch("clips")
    out_dir.mkdir(parents=True, exist_ok=True)
    transcript = load_transcript(ctx)
    with session_scope(ctx.engine) as session:
        layout = load_layout(session, ctx.job_id)
    def clips_done(done: int, total: int) -> None:
        if progress and total:
            progress(done / total)

    rendered = render_clips(str(source), plans, transcript, layout, render_options,
                            str(out_dir), progress=clips_done, picture=choice.picture,
                            picture_reason=choice.reason, lecture=choice.lecture) if plans else []

    # Old clips of an earlier attempt go first, so the results folder holds only this run.
    for key in ctx.storage.list(ctx.result_key("clip_")):
        ctx.storage.delete(key)
    rows: list[Clip] = []
    for clip, segment_id in zip(rendered, segment_ids, strict=True):
        row = Clip(content_segment_id=segment_id, title=clip.plan.title[:500],
                   topic=clip.plan.topic[:500], importance_score=round(clip.plan.importance_score, 4),
                   start_time=round(clip.plan.start, 3), end_time=round(clip.plan.end, 3),
                   duration=round(clip.plan.duration, 3), clip_order=clip.plan.rank,
                   s3_key="", metadata_={})
        row.clip_id = new_id("clip")
        row.s3_key = ctx.storage.put_file(clip.video_path, ctx.result_key(f"{row.clip_id}.mp4"),
                                          content_type="video/mp4")
        if clip.thumbnail_path:
            row.thumbnail_s3_key = ctx.storage.put_file(
                clip.thumbnail_path, ctx.result_key(f"{row.clip_id}.jpg"), content_type="image/jpeg")
        vtt_key = None
        if clip.vtt_path:
            vtt_key = ctx.storage.put_file(clip.vtt_path, ctx.result_key(f"{row.clip_id}.vtt"),
                                           content_type="text/vtt")
        if clip.srt_path:
            row.subtitle_s3_key = ctx.storage.put_file(
                clip.srt_path, ctx.result_key(f"{row.clip_id}.srt"), content_type="application/x-subrip")
        clip_notes = [*clip.plan.notes, *([choice.reason] if choice.reason else [])]
        row.metadata_ = {**clip.metadata, "vtt_s3_key": vtt_key,
                         **({"notes": clip_notes} if clip_notes else {})}
        rows.append(row)

    with session_scope(ctx.engine) as session:
        analysis, _ = load_topics(session, ctx.job_id)
    chapters_note = None
    try:
        chapters_text = format_chapters(build_chapters(analysis, duration))
        ctx.storage.put_bytes(chapters_text.encode("utf-8"), ctx.result_key(CHAPTERS_TXT),
                              content_type="text/plain; charset=utf-8")
    except ValueError as exc:  # fewer than three usable topics: YouTube would reject the list
        chapters_note = f"no chapter list: {exc}"
        ctx.storage.delete(ctx.result_key(CHAPTERS_TXT))

    with session_scope(ctx.engine) as session:
        replace_stage_rows(session, ctx.job_id, Clip, rows)
    return StageResult(
        agent_name=AGENT, rows=len(rows),
        metadata={"format": render_options.format, "burn_captions": render_options.burn_captions,
                  "picture": choice.picture,
                  **({"message": choice.reason} if choice.reason else {}),
                  "clips": [{"clip_id": r.clip_id, "file_size": r.metadata_.get("file_size")} for r in rows],
                  "chapters": chapters_note or "stored", "notes": notes},
    )


STAGE = Stage(
    name="compilation", step=4, cost=0.02, timeout_per_minute=60, agent=AGENT,
    message="Rendering clips, thumbnails and subtitles",
)


@task(name=STAGE.name, task_run_name="compilation [{job_id}]", **TASK_DEFAULTS)
def compilation_task(job_id: str, source_key: str, duration: float,
                     options: dict[str, Any]) -> dict[str, Any]:
    """Render one job's planned clips with thumbnails, subtitles and chapters."""
    return run(StageContext(job_id), source_key, duration, options,
               progress_reporter(job_id, STAGE.name)).to_dict()
