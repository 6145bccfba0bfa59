"""`GET /health` (no auth) and `GET /info`: what this server accepts and how it runs jobs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth import require_auth
from api.context import ApiContext, get_context
from api.errors import reject_unknown_query
from api.schemas import ErrorResponse

router = APIRouter(tags=["server"])


class Health(BaseModel):
    status: Literal["ok"]


class JobDefaults(BaseModel):
    clips: int
    format: str
    min_len: float
    max_len: float


class ServerInfo(BaseModel):
    runner: Literal["local", "prefect"]
    storage: Literal["local", "s3"]
    max_upload_bytes: int = Field(..., description="HIGHLIGHTS_MAX_UPLOAD_BYTES")
    max_duration_seconds: float
    transcriber: str
    analyzer: str
    defaults: JobDefaults


@router.get("/health", response_model=Health, summary="Liveness check (no auth)")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/info",
    response_model=ServerInfo,
    summary="Limits and defaults of this server",
    dependencies=[Depends(require_auth), Depends(reject_unknown_query)],
    responses={
        401: {"model": ErrorResponse, "description": "Missing or wrong token."},
        422: {"model": ErrorResponse, "description": "Unknown query parameter."},
    },
)
def info(ctx: Annotated[ApiContext, Depends(get_context)]) -> ServerInfo:
    s = ctx.settings
    return ServerInfo(
        runner=ctx.launcher.kind,
        storage="s3" if s.uses_s3 else "local",
        max_upload_bytes=s.max_upload_bytes,
        max_duration_seconds=s.max_duration_seconds,
        transcriber=s.transcriber,
        analyzer=s.analyzer,
        defaults=JobDefaults(
            clips=s.clip_count,
            format=s.clip_format,
            min_len=s.clip_min_seconds,
            max_len=s.clip_max_seconds,
        ),
    )
