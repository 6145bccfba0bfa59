"""Request and response models: the API's contract, as published in its OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

JobStatus = Literal["queued", "running", "completed", "failed"]
ClipFormat = Literal["original", "vertical"]
TranscriptFormat = Literal["json", "srt", "vtt"]

MAX_CLIPS = 50
MAX_CLIP_SECONDS = 3600.0


class JobOptions(BaseModel):
    """How to cut the highlights; anything left out takes the server's configured default."""

    model_config = ConfigDict(extra="forbid")

    clips: int | None = Field(None, ge=1, le=MAX_CLIPS, description="How many clips (default 5).")
    format: ClipFormat | None = Field(
        None, description="`original` keeps the frame; `vertical` makes 9:16 clips (1080x1920; 720x1280 when the screen is at most 720 px wide)."
    )
    min_len: float | None = Field(
        None, ge=1, le=MAX_CLIP_SECONDS, description="Shortest clip in seconds (default 30)."
    )
    max_len: float | None = Field(
        None, ge=1, le=MAX_CLIP_SECONDS, description="Longest clip in seconds (default 90)."
    )
    burn_captions: bool | None = Field(None, description="Burn the subtitles into the video.")

    @model_validator(mode="after")
    def _lengths_in_order(self) -> JobOptions:
        if self.min_len is not None and self.max_len is not None and self.max_len < self.min_len:
            raise ValueError(f"max_len {self.max_len:g} is shorter than min_len {self.min_len:g}")
        return self

    def as_job_options(self) -> dict[str, Any]:
        """Only what the client chose: the pipeline fills in its defaults for the rest."""
        return self.model_dump(exclude_none=True)


class JobSourceRequest(BaseModel):
    """Process a lecture already stored in S3 (or MinIO) instead of uploading it."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        ...,
        pattern=r"^s3://[^/\s]+/.+",
        max_length=1024,
        examples=["s3://lectures/2025/week-01.mp4"],
        description="An s3://BUCKET/KEY URL of the recording.",
    )
    options: JobOptions = Field(default_factory=JobOptions)


class ValidationIssue(BaseModel):
    loc: list[str]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    detail: str = Field(..., description="What went wrong, in one line.")
    errors: list[ValidationIssue] | None = Field(
        None, description="Each invalid field (422 answers to malformed parameters only)."
    )


class JobLinks(BaseModel):
    self: str
    clips: str
    transcript: str
    segments: str
    timeline: str
    retry: str
    page: str


class JobCreated(BaseModel):
    job_id: str
    status: JobStatus
    runner: Literal["local", "prefect"] = Field(
        ...,
        description="Where the job runs: a process started by this server, or a Prefect deployment.",
    )
    flow_run_id: str | None = Field(None, description="The Prefect flow run, when known.")
    links: JobLinks


class JobSummary(BaseModel):
    job_id: str
    filename: str
    status: JobStatus
    current_stage: str | None
    progress_percent: float = Field(..., ge=0, le=100)
    progress_message: str | None
    eta_seconds: int | None = Field(None, description="Estimated seconds until done.")
    error_message: str | None
    file_size: int
    video_duration: float | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    links: JobLinks


class LayoutOut(BaseModel):
    layout_type: str
    screen_region: dict[str, float]
    camera_region: dict[str, float]
    split_ratio: float
    confidence_score: float | None


class JobDetail(JobSummary):
    content_type: str
    options: dict[str, Any] = Field(..., description="Options the job was submitted with.")
    video_metadata: dict[str, Any]
    flow_run_id: str | None
    clip_count: int
    layout: LayoutOut | None
    source_url: str | None = Field(None, description="The stored recording, once ingested.")


class JobPage(BaseModel):
    items: list[JobSummary]
    total: int = Field(..., description="Jobs matching the filter, over all pages.")
    limit: int
    offset: int
    next_offset: int | None = Field(None, description="Offset of the next page, if any.")


class ClipOut(BaseModel):
    clip_id: str
    rank: int | None = Field(None, description="1 = the best clip.")
    title: str
    topic: str | None
    importance_score: float | None
    start_time: float = Field(..., description="Start in the lecture, seconds.")
    end_time: float
    duration: float
    content_segment_id: str | None
    video_url: str | None
    thumbnail_url: str | None
    subtitles_vtt_url: str | None
    subtitles_srt_url: str | None
    metadata: dict[str, Any]


class ClipList(BaseModel):
    job_id: str
    items: list[ClipOut]


class TranscriptLineOut(BaseModel):
    start_time: float
    end_time: float
    text: str
    confidence: float | None


class TranscriptOut(BaseModel):
    job_id: str
    segments: list[TranscriptLineOut]
    text: str = Field(..., description="The whole transcript as one string.")


class SegmentOut(BaseModel):
    segment_id: str
    segment_order: int
    start_time: float
    end_time: float
    duration: float
    topic: str
    description: str | None
    importance_score: float
    keywords: list[Any]
    concepts: list[Any]
    clip_id: str | None = Field(None, description="The clip cut from this segment, if any.")


class SegmentList(BaseModel):
    job_id: str
    video_duration: float | None
    items: list[SegmentOut]


class SearchHitOut(BaseModel):
    start_time: float
    end_time: float
    source: Literal["slide", "transcript"]
    text: str
    topic: str | None = Field(..., description="The topic segment the hit falls in.")


class SearchResults(BaseModel):
    hits: list[SearchHitOut] = Field(..., description="Best first.")


class TimelineEntryOut(BaseModel):
    stage: str
    agent_name: str | None
    status: str
    duration_seconds: float | None
    error_message: str | None
    created_at: datetime


class Timeline(BaseModel):
    job_id: str
    items: list[TimelineEntryOut]
