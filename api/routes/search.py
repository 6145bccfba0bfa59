"""`GET /jobs/{id}/search`: what was said and what the slides show, best hits first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from starlette.concurrency import run_in_threadpool

from api.auth import require_auth
from api.context import ApiContext, get_context
from api.errors import ApiError, reject_unknown_query
from api.schemas import ErrorResponse, SearchHitOut, SearchResults
from db.queries import get_job, topic_spans
from highlights.search import SearchQueryError, TopicSpan, load_lecture_text, search_lecture

router = APIRouter(
    tags=["jobs"], dependencies=[Depends(require_auth), Depends(reject_unknown_query)]
)


@router.get(
    "/jobs/{job_id}/search",
    response_model=SearchResults,
    summary="Search the transcript and the slide text of a lecture",
    responses={
        401: {"model": ErrorResponse, "description": "Missing or wrong bearer token."},
        404: {"model": ErrorResponse, "description": "No job with this id."},
        422: {"model": ErrorResponse, "description": "Empty query or invalid parameters."},
    },
)
async def search_job(
    job_id: Annotated[str, Path(min_length=1, max_length=100, description="The job's id.")],
    ctx: Annotated[ApiContext, Depends(get_context)],
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words to find.")],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SearchResults:
    def run() -> SearchResults:
        with ctx.session() as session:
            if get_job(session, job_id) is None:
                raise ApiError(404, f"no job with id {job_id!r}")
            topics = [TopicSpan(*span) for span in topic_spans(session, job_id)]
        transcript, slides = load_lecture_text(ctx.storage, job_id)
        try:
            hits = search_lecture(q, transcript, slides, topics, limit=limit)
        except SearchQueryError as exc:
            raise ApiError(422, str(exc)) from None
        return SearchResults(hits=[SearchHitOut(**h.to_dict()) for h in hits])

    return await run_in_threadpool(run)
