"""`GET /files/{key}`: stored results and originals, with HTTP Range for video seeking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.context import ApiContext, get_context
from api.files import is_text, local_path, media_type, validate_served_key
from api.schemas import ErrorResponse
from highlights.storage import ObjectNotFoundError

router = APIRouter(tags=["files"])


@router.api_route("/files/{key:path}", methods=["HEAD"], include_in_schema=False)
@router.get(
    "/files/{key:path}",
    name="get_file",
    summary="A stored clip, thumbnail, subtitle file or original recording",
    description=(
        "Authorised by a signed URL (the `expires` and `signature` the API put in it), the "
        "bearer token, or the page's session. Supports `Range` requests (206) so players can "
        "seek. On S3 storage, media answers with a redirect to a presigned URL."
    ),
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file."},
        206: {"description": "The requested byte range."},
        307: {"description": "Redirect to a presigned S3 URL."},
        401: {"model": ErrorResponse, "description": "No valid signature or credentials."},
        404: {"model": ErrorResponse, "description": "No such file."},
        422: {"model": ErrorResponse, "description": "Malformed query parameters."},
        416: {"description": "The range is outside the file."},
    },
)
async def get_file(
    request: Request,
    key: str,
    ctx: Annotated[ApiContext, Depends(get_context)],
    expires: Annotated[str | None, Query(max_length=20)] = None,
    signature: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    validate_served_key(key)
    if not ctx.auth.signature_valid(key, expires, signature):
        ctx.auth.authorize(request)
    headers = {"Cache-Control": "private, max-age=3600"}
    if ctx.storage.backend == "local":
        path = local_path(ctx.storage, key)
        return FileResponse(path, media_type=media_type(key), headers=headers)
    try:
        if is_text(key):
            data = await run_in_threadpool(ctx.storage.read_bytes, key)
            return Response(data, media_type=media_type(key), headers=headers)
        url = await run_in_threadpool(ctx.storage.url, key, ctx.urls.lifetime)
    except ObjectNotFoundError:
        from api.errors import ApiError

        raise ApiError(404, "no such file") from None
    return RedirectResponse(url, status_code=307)
