"""The FastAPI application: the JSON API, stored files and the results page."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from api.auth import Auth
from api.context import ApiContext
from api.errors import ApiConfigError, error_response, install_error_handlers
from api.files import FileUrls
from api.launcher import JobLauncher, choose_launcher
from api.routes import files, info, jobs, pages, search
from api.routes.pages import STATIC_DIR
from api.schemas import JobSourceRequest
from db.engine import DatabaseError, get_engine
from highlights.settings import Settings, load_settings
from highlights.storage import StorageError, open_storage

log = logging.getLogger("highlights.api")

API_VERSION = "1.0.0"
STALE_UPLOAD_SECONDS = 24 * 3600
DESCRIPTION = """
Turn lecture recordings into ranked highlight clips with titles, thumbnails and subtitles.

Submit a lecture with `POST /jobs`, follow it with `GET /jobs/{job_id}`, then fetch its
clips, transcript, topic segments and processing timeline. Every endpoint except
`/health` needs `Authorization: Bearer <HIGHLIGHTS_API_TOKEN>`. The results page is at `/`.
"""


def _remove_stale_uploads(ctx: ApiContext) -> None:
    """Temp files of uploads cut off by a crash; fresh ones may belong to another server."""
    folder = ctx.incoming_dir
    if not folder.is_dir():
        return
    cutoff = time.time() - STALE_UPLOAD_SECONDS
    for path in folder.glob("*.part"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    # The submit body is read as a stream, so FastAPI cannot see its JSON model: add it.
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    extra = JobSourceRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(extra.pop("$defs", {}))
    components["JobSourceRequest"] = extra
    app.openapi_schema = schema
    return schema


def create_app(
    settings: Settings | None = None,
    *,
    launcher: JobLauncher | None = None,
    runner: str = "auto",
    max_parallel_jobs: int = 1,
) -> FastAPI:
    """The app for these settings (default: from the environment).

    Raises ApiConfigError when there is no API token and auth is not explicitly disabled.
    `launcher` replaces the runner chosen from the environment (`runner`: auto, local or
    prefect); the local runner runs at most `max_parallel_jobs` jobs at once.
    """
    settings = settings or load_settings()
    auth = Auth.from_settings(settings)
    storage = open_storage(settings)
    launcher = launcher or choose_launcher(settings, runner, max_parallel_jobs)
    ctx = ApiContext(
        settings=settings,
        auth=auth,
        engine=get_engine(settings),
        storage=storage,
        launcher=launcher,
        urls=FileUrls(storage, auth),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            storage.check()
        except StorageError as exc:
            raise ApiConfigError(str(exc)) from None
        launcher.warm_up()
        _remove_stale_uploads(ctx)
        log.info("highlights API ready: %s runner, %s storage", launcher.kind, storage.backend)
        yield
        launcher.shutdown()

    app = FastAPI(
        title="Lecture Highlights API",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.context = ctx
    app.state.auth = auth
    install_error_handlers(app)

    @app.exception_handler(StorageError)
    async def _storage_down(_request: Any, exc: StorageError) -> Any:
        log.warning("storage error: %s", exc)
        return error_response(503, f"the object store failed: {exc}")

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Any, exc: OperationalError) -> Any:
        log.warning("database error: %s", exc)
        return error_response(503, "the database is unavailable; try again shortly")

    @app.exception_handler(DatabaseError)
    async def _database_error(_request: Any, exc: DatabaseError) -> Any:
        return error_response(503, str(exc))

    app.include_router(jobs.router)
    app.include_router(search.router)
    app.include_router(files.router)
    app.include_router(info.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


__all__ = ["ApiConfigError", "create_app"]
