"""The job endpoints: submit, list, inspect, results, retry, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.auth import require_auth
from api.context import ApiContext, get_context
from api.errors import ApiError, describe_validation, reject_unknown_query
from api.launcher import LaunchError, mark_not_started
from api.schemas import (
    MAX_CLIP_SECONDS,
    MAX_CLIPS,
    ClipList,
    ErrorResponse,
    JobCreated,
    JobDetail,
    JobOptions,
    JobPage,
    JobSourceRequest,
    JobStatus,
    SegmentList,
    Timeline,
    TranscriptFormat,
    TranscriptLineOut,
    TranscriptOut,
)
from api.sources import check_s3_source, effective_options, place_upload, remove_placed
from api.uploads import read_small_body, receive_upload
from api.views import clip_out, job_detail, job_links, job_summary, segment_out, timeline_entry
from db import jobstate, queries
from db.models import Job
from db.queries import delete_job, full_transcript, get_job, transcript_text
from highlights.transcript_export import render_transcript

router = APIRouter(
    tags=["jobs"], dependencies=[Depends(require_auth), Depends(reject_unknown_query)]
)

Ctx = Annotated[ApiContext, Depends(get_context)]
JobId = Annotated[str, Path(min_length=1, max_length=100, description="The job's id.")]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    meaning = {
        401: "Missing or wrong bearer token.",
        403: "A page request without the X-Highlights-Request header.",
        404: "No job with this id.",
        409: "The job is in a state that does not allow this.",
        413: "The upload is larger than HIGHLIGHTS_MAX_UPLOAD_BYTES.",
        415: "The body is not multipart/form-data or JSON, or the file is not audio/video.",
        422: "Invalid parameters or body.",
        503: "A service the API depends on (Prefect, S3, the database) is unavailable.",
    }
    return {code: {"model": ErrorResponse, "description": meaning[code]} for code in (401, *codes)}


def _not_found(job_id: str) -> ApiError:
    return ApiError(404, f"no job with id {job_id!r}")


def _load_job(ctx: ApiContext, job_id: str) -> Job:
    with ctx.session() as session:
        job = get_job(session, job_id)
    if job is None:
        raise _not_found(job_id)
    return job


# -- submitting ----------------------------------------------------------------------

_OPTION_PROPERTIES: dict[str, Any] = {
    "clips": {"type": "integer", "minimum": 1, "maximum": MAX_CLIPS},
    "format": {"type": "string", "enum": ["original", "vertical"]},
    "min_len": {"type": "number", "minimum": 1, "maximum": MAX_CLIP_SECONDS},
    "max_len": {"type": "number", "minimum": 1, "maximum": MAX_CLIP_SECONDS},
    "burn_captions": {"type": "boolean"},
}
SUBMIT_BODY: dict[str, Any] = {
    "required": True,
    "description": (
        "Either a multipart upload (field `file`, plus optional option fields; put the options "
        "before the file), or JSON naming a recording already in S3."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The lecture recording (video or audio).",
                    },
                    **_OPTION_PROPERTIES,
                },
            },
        },
        "application/json": {"schema": {"$ref": "#/components/schemas/JobSourceRequest"}},
    },
}


def _parse_options(fields: dict[str, str]) -> JobOptions:
    try:
        return JobOptions.model_validate(fields)
    except ValidationError as exc:
        raise ApiError(422, describe_validation(list(exc.errors()))) from None


async def _job_from_upload(request: Request, ctx: ApiContext) -> str:
    from flows.jobs import create_job, new_job_id

    upload = await receive_upload(request, ctx.incoming_dir, ctx.settings.max_upload_bytes)
    try:
        options = effective_options(_parse_options(upload.fields), ctx.settings)
        job_id = new_job_id()
        source = await run_in_threadpool(place_upload, ctx.storage, upload, job_id)
        try:
            await run_in_threadpool(
                create_job,
                ctx.settings,
                source,
                options,
                job_id=job_id,
                extra_metadata={
                    "filename": upload.filename,
                    "upload_sha256": upload.sha256,
                    "container": upload.family,
                    "submitted_via": "api",
                },
            )
        except BaseException:
            await run_in_threadpool(remove_placed, ctx.storage, job_id)
            raise
        if ctx.storage.backend != "local":  # create_job can only stat local files
            await run_in_threadpool(jobstate.record_input, ctx.settings, job_id, file_size=upload.size)
    finally:
        upload.discard()
    return job_id


async def _job_from_s3(request: Request, ctx: ApiContext) -> str:
    from flows.jobs import create_job

    body = await read_small_body(request)
    try:
        submitted = JobSourceRequest.model_validate_json(body)
    except ValidationError as exc:
        raise ApiError(422, describe_validation(list(exc.errors()))) from None
    options = effective_options(submitted.options, ctx.settings)
    size = await run_in_threadpool(check_s3_source, ctx.settings, submitted.source)
    job_id = await run_in_threadpool(
        create_job, ctx.settings, submitted.source, options, extra_metadata={"submitted_via": "api"}
    )
    await run_in_threadpool(jobstate.record_input, ctx.settings, job_id, file_size=size)
    return job_id


async def _launch(ctx: ApiContext, job_id: str, resume: bool) -> str | None:
    try:
        flow_run_id = await ctx.launcher.start(job_id, resume=resume)
    except LaunchError as exc:
        await run_in_threadpool(mark_not_started, ctx.settings, job_id, f"could not start: {exc}")
        raise ApiError(503, f"{exc}; job {job_id} is saved as failed, retry it later") from None
    if flow_run_id:
        await run_in_threadpool(jobstate.record_flow_run, ctx.settings, job_id, flow_run_id)
    return flow_run_id


def _accepted(
    request: Request, response: Response, ctx: ApiContext, job_id: str, flow_run_id: str | None
) -> JobCreated:
    links = job_links(request, job_id)
    response.headers["Location"] = links.self
    return JobCreated(
        job_id=job_id,
        status="queued",
        runner=ctx.launcher.kind,
        flow_run_id=flow_run_id,
        links=links,
    )


@router.post(
    "/jobs",
    status_code=202,
    response_model=JobCreated,
    summary="Submit a lecture",
    description=(
        "Upload a recording (streamed to disk, never held in memory; 413 as soon as it passes "
        "the size limit, 415 as soon as its first bytes show it is not audio or video), or name "
        "one in S3. The job starts at once - on the Prefect deployment when a Prefect server is "
        "configured, else in this server - and is answered with 202 and its links."
    ),
    openapi_extra={"requestBody": SUBMIT_BODY},
    responses=_errors(403, 413, 415, 422, 503),
)
async def submit_job(request: Request, response: Response, ctx: Ctx) -> JobCreated:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        job_id = await _job_from_upload(request, ctx)
    elif content_type == "application/json":
        job_id = await _job_from_s3(request, ctx)
    else:
        raise ApiError(
            415,
            "send the lecture as multipart/form-data (field 'file') or JSON "
            '{"source": "s3://bucket/key"}',
        )
    flow_run_id = await _launch(ctx, job_id, resume=False)
    return _accepted(request, response, ctx, job_id, flow_run_id)


# -- reading -------------------------------------------------------------------------


@router.get(
    "/jobs", response_model=JobPage, summary="List jobs, newest first", responses=_errors(422)
)
def list_jobs(
    request: Request,
    ctx: Ctx,
    status: Annotated[JobStatus | None, Query(description="Only jobs with this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> JobPage:
    with ctx.session() as session:
        total = queries.count_jobs(session, status)
        jobs = queries.list_jobs(session, status, limit=limit, offset=offset)
    items = [job_summary(request, job) for job in jobs]
    following = offset + len(items)
    return JobPage(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total else None,
    )


@router.get(
    "/jobs/{job_id}",
    response_model=JobDetail,
    summary="A job: status, stage, progress, ETA, error",
    responses=_errors(404, 422),
    name="get_job",
)
def get_job_route(request: Request, ctx: Ctx, job_id: JobId) -> JobDetail:
    with ctx.session() as session:
        job = get_job(session, job_id)
        if job is None:
            raise _not_found(job_id)
        clip_count = queries.clip_count(session, job_id)
        layout = queries.job_layout(session, job_id)
    return job_detail(request, ctx, job, clip_count, layout)


@router.get(
    "/jobs/{job_id}/clips",
    response_model=ClipList,
    summary="The job's clips, best first, with video, thumbnail and subtitle URLs",
    responses=_errors(404, 422),
)
def get_clips(request: Request, ctx: Ctx, job_id: JobId) -> ClipList:
    with ctx.session() as session:
        if get_job(session, job_id) is None:
            raise _not_found(job_id)
        clips = queries.job_clips(session, job_id)
    return ClipList(job_id=job_id, items=[clip_out(request, ctx, clip) for clip in clips])


@router.get(
    "/jobs/{job_id}/transcript",
    response_model=TranscriptOut,
    summary="The full transcript as JSON, SRT or VTT",
    responses={
        **_errors(404, 422),
        200: {
            "content": {
                "application/json": {},
                "text/vtt": {"schema": {"type": "string"}},
                "application/x-subrip": {"schema": {"type": "string"}},
            }
        },
    },
)
def get_transcript(
    ctx: Ctx, job_id: JobId, format: Annotated[TranscriptFormat, Query()] = "json"
) -> Any:  # noqa: A002
    with ctx.session() as session:
        if get_job(session, job_id) is None:
            raise _not_found(job_id)
        lines = full_transcript(session, job_id)
        plain_text = transcript_text(session, job_id) if format == "json" else ""
    if format == "json":
        return TranscriptOut(
            job_id=job_id,
            segments=[
                TranscriptLineOut(
                    start_time=x.start_time,
                    end_time=x.end_time,
                    text=x.text,
                    confidence=x.confidence,
                )
                for x in lines
            ],
            text=plain_text,
        )
    text = render_transcript(ctx.storage, job_id, lines, format)
    media = "text/vtt" if format == "vtt" else "application/x-subrip"
    return PlainTextResponse(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{job_id}.{format}"'},
    )


@router.get(
    "/jobs/{job_id}/segments",
    response_model=SegmentList,
    summary="The topic segments of the lecture, in order",
    responses=_errors(404, 422),
)
def get_segments(ctx: Ctx, job_id: JobId) -> SegmentList:
    with ctx.session() as session:
        job = get_job(session, job_id)
        if job is None:
            raise _not_found(job_id)
        segments = queries.job_segments(session, job_id)
        clip_of = queries.clip_of_segment(session, job_id)
    return SegmentList(
        job_id=job_id,
        video_duration=job.video_duration,
        items=[segment_out(s, clip_of.get(s.segment_id)) for s in segments],
    )


@router.get(
    "/jobs/{job_id}/timeline",
    response_model=Timeline,
    summary="Every stage attempt: stage, status, duration, error",
    responses=_errors(404, 422),
)
def get_timeline(ctx: Ctx, job_id: JobId) -> Timeline:
    with ctx.session() as session:
        if get_job(session, job_id) is None:
            raise _not_found(job_id)
        logs = queries.job_logs(session, job_id)
    return Timeline(job_id=job_id, items=[timeline_entry(log) for log in logs])


# -- changing ------------------------------------------------------------------------

_FORCE = Query(description="Also act on a job marked queued/running whose runner died.")


@router.post(
    "/jobs/{job_id}/retry",
    status_code=202,
    response_model=JobCreated,
    summary="Resume a failed job in the background",
    description="Stages whose results are stored are reused. 409 if the job completed, or "
    "is queued or running (unless `force`, for a job whose runner died).",
    responses=_errors(403, 404, 409, 422, 503),
)
async def retry_job(
    request: Request,
    response: Response,
    ctx: Ctx,
    job_id: JobId,
    force: Annotated[bool, _FORCE] = False,
) -> JobCreated:
    job = await run_in_threadpool(_load_job, ctx, job_id)
    if job.status == "completed":
        raise ApiError(409, f"job {job_id} already completed; nothing to retry")
    if ctx.launcher.is_active(job_id):
        raise ApiError(409, f"job {job_id} is already waiting or running in this server")
    if job.status in ("queued", "running") and not force:
        raise ApiError(
            409, f"job {job_id} is {job.status}; if its runner died, retry with force=true"
        )
    await run_in_threadpool(jobstate.requeue, ctx.settings, job_id, "Waiting to resume")
    flow_run_id = await _launch(ctx, job_id, resume=True)
    return _accepted(request, response, ctx, job_id, flow_run_id)


@router.delete(
    "/jobs/{job_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a job: its rows in every table and its stored files",
    responses=_errors(403, 404, 409, 422),
    name="delete_job",
)
def delete_job_route(ctx: Ctx, job_id: JobId, force: Annotated[bool, _FORCE] = False) -> Response:
    job = _load_job(ctx, job_id)
    if ctx.launcher.is_active(job_id):
        if not ctx.launcher.cancel_pending(job_id):
            raise ApiError(
                409,
                f"job {job_id} is running in this server; delete it when it "
                "has completed or failed",
            )
    elif job.status == "running" and not force:
        raise ApiError(
            409,
            f"job {job_id} is running; delete it when it has completed or "
            "failed, or with force=true if its runner died",
        )
    # Files first: if the store fails, the job stays listed and the delete can be repeated.
    ctx.storage.delete_job(job_id)
    with ctx.session() as session:
        delete_job(session, job_id)
    return Response(status_code=204)
