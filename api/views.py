"""Database rows to response models (with links and file URLs for this request)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.context import ApiContext
from api.schemas import (
    ClipOut,
    JobDetail,
    JobLinks,
    JobSummary,
    LayoutOut,
    SegmentOut,
    TimelineEntryOut,
)
from db.models import Clip, ContentSegment, Job, LayoutAnalysis, ProcessingLog


def job_links(request: Request, job_id: str) -> JobLinks:
    def url(name: str) -> str:
        return str(request.url_for(name, job_id=job_id))

    return JobLinks(
        self=url("get_job"),
        clips=url("get_clips"),
        transcript=url("get_transcript"),
        segments=url("get_segments"),
        timeline=url("get_timeline"),
        retry=url("retry_job"),
        page=f"{request.url_for('results_page')}#job={job_id}",
    )


def _summary_fields(request: Request, job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "filename": job.filename,
        "status": job.status,
        "current_stage": job.current_stage,
        "progress_percent": min(max(job.progress_percent or 0.0, 0.0), 100.0),
        "progress_message": job.progress_message,
        "eta_seconds": job.eta_seconds,
        "error_message": job.error_message,
        "file_size": job.file_size,
        "video_duration": job.video_duration,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "completed_at": job.completed_at,
        "links": job_links(request, job.job_id),
    }


def job_summary(request: Request, job: Job) -> JobSummary:
    return JobSummary(**_summary_fields(request, job))


def layout_out(layout: LayoutAnalysis | None) -> LayoutOut | None:
    if layout is None:
        return None
    return LayoutOut(
        layout_type=layout.layout_type,
        screen_region=layout.screen_region,
        camera_region=layout.camera_region,
        split_ratio=layout.split_ratio,
        confidence_score=layout.confidence_score,
    )


def job_detail(
    request: Request, ctx: ApiContext, job: Job, clip_count: int, layout: LayoutAnalysis | None
) -> JobDetail:
    metadata = job.metadata_ or {}
    # The original is in the store only once ingest has put it there.
    source_url = ctx.urls.url(request, job.original_s3_key) if job.original_s3_key else None
    return JobDetail(
        **_summary_fields(request, job),
        content_type=job.content_type,
        options=dict(metadata.get("options") or {}),
        video_metadata=dict(job.video_metadata or {}),
        flow_run_id=job.flow_run_id,
        clip_count=clip_count,
        layout=layout_out(layout),
        source_url=source_url,
    )


def clip_out(request: Request, ctx: ApiContext, clip: Clip) -> ClipOut:
    metadata = dict(clip.metadata_ or {})
    return ClipOut(
        clip_id=clip.clip_id,
        rank=clip.clip_order,
        title=clip.title,
        topic=clip.topic,
        importance_score=clip.importance_score,
        start_time=clip.start_time,
        end_time=clip.end_time,
        duration=clip.duration,
        content_segment_id=clip.content_segment_id,
        video_url=ctx.urls.url(request, clip.s3_key),
        thumbnail_url=ctx.urls.url(request, clip.thumbnail_s3_key),
        subtitles_vtt_url=ctx.urls.url(request, metadata.get("vtt_s3_key")),
        subtitles_srt_url=ctx.urls.url(request, clip.subtitle_s3_key),
        metadata=metadata,
    )


def segment_out(segment: ContentSegment, clip_id: str | None) -> SegmentOut:
    return SegmentOut(
        segment_id=segment.segment_id,
        segment_order=segment.segment_order,
        start_time=segment.start_time,
        end_time=segment.end_time,
        duration=segment.duration,
        topic=segment.topic,
        description=segment.description,
        importance_score=segment.importance_score,
        keywords=list(segment.keywords or []),
        concepts=list(segment.concepts or []),
        clip_id=clip_id,
    )


def timeline_entry(log: ProcessingLog) -> TimelineEntryOut:
    return TimelineEntryOut(
        stage=log.stage,
        agent_name=log.agent_name,
        status=log.status,
        duration_seconds=log.duration_seconds,
        error_message=log.error_message,
        created_at=log.created_at,
    )
