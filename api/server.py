"""`highlights serve`: run the API and results page with uvicorn.

Authentication: with HIGHLIGHTS_API_TOKEN set, that token is required. With neither the
token nor HIGHLIGHTS_API_AUTH=disabled, `serve` generates a random token for this run and
prints it with a login link (like Jupyter), so a laptop user gets a working, protected
server with no set-up; clients that must survive restarts should set the variable.
(`create_app` itself refuses to build an app without a token: only `serve` generates one.)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys

from api.errors import ApiConfigError as ApiConfigError  # the CLI catches it from here
from highlights.settings import Settings

DEFAULT_MAX_PARALLEL_JOBS = 1


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_parallel_jobs: int = DEFAULT_MAX_PARALLEL_JOBS,
) -> None:
    """Serve until interrupted. Raises ApiConfigError for unusable settings."""
    import uvicorn

    from api.app import create_app
    from api.auth import generate_token

    # Quiet Prefect the way the CLI does, unless the user chose otherwise.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    base = f"http://{_display_host(host)}:{port}/"
    if not settings.api_token and not settings.api_auth_disabled:
        token = generate_token()
        settings = dataclasses.replace(settings, api_token=token)
        print(
            "HIGHLIGHTS_API_TOKEN is not set: generated a token for this run.\n"
            f"  API:  Authorization: Bearer {token}\n"
            f"  Page: {base}?token={token}\n"
            "Set HIGHLIGHTS_API_TOKEN to keep a token across restarts, or "
            "HIGHLIGHTS_API_AUTH=disabled to serve without authentication.",
            file=sys.stderr,
            flush=True,
        )
    elif settings.api_auth_disabled:
        print(
            f"Authentication is disabled (HIGHLIGHTS_API_AUTH=disabled). Page: {base}",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(f"Page: {base} (log in with HIGHLIGHTS_API_TOKEN)", file=sys.stderr, flush=True)
    app = create_app(settings, max_parallel_jobs=max_parallel_jobs)
    # uvicorn re-raises the signal that stopped it once it has shut down (after the
    # lifespan has stopped the job processes); with the default SIGTERM action the process
    # would die before its atexit handlers (log flushing, Prefect clients) run.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
