"""The `highlights` command: process lectures and query their results.

Every command takes `--json` for scripts; without it, output is made for people (a live
progress bar, tables). Runs on the embedded defaults (SQLite, a local folder, Prefect's
ephemeral mode, local models) with nothing else set up.
"""

from __future__ import annotations

import os

# Before Prefect is imported anywhere: no telemetry lookups, and no chatty console logs
# under our progress bar. Users can still override both.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# A failed stage's traceback belongs in Prefect's run logs (still sent to its API) and the
# job's processing log, not on the terminal above the one line that says what went wrong.
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

from highlights.memory import limit_heap_arenas  # noqa: E402

# before any thread starts: `highlights process` runs the whole pipeline in this process
limit_heap_arenas()

import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Any  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from cli import render  # noqa: E402
from cli.runner import run_job  # noqa: E402
from highlights.settings import Settings, SettingsError, load_settings  # noqa: E402

app = typer.Typer(
    name="highlights",
    help="Turn lecture recordings into ranked highlight clips with titles, thumbnails and subtitles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
SAMPLE_LECTURE = Path(__file__).resolve().parent.parent / "highlights" / "samples" / "lecture-demo.mp4"


def fail(message: str, as_json: bool, code: int = 1) -> typer.Exit:
    if as_json:
        print(json.dumps({"error": message}))
    else:
        err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def settings_or_exit(as_json: bool) -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc), as_json, 2) from None


def emit(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _migrate(settings: Settings, as_json: bool) -> None:
    from db.engine import DatabaseError
    from db.migrate import init_db

    try:
        init_db(settings.database_url)
    except DatabaseError as exc:
        raise fail(str(exc), as_json) from None


def _process(source: str, options: dict[str, Any], as_json: bool) -> None:
    settings = settings_or_exit(as_json)
    from highlights.settings import validate_provider_keys

    try:
        validate_provider_keys(settings)
    except SettingsError as exc:
        raise fail(str(exc), as_json, 2) from None
    if not source.startswith("s3://"):
        path = Path(source).expanduser()
        if not path.exists():
            raise fail(f"file not found: {path}", as_json, 2)
        if not path.is_file():
            raise fail(f"{path} is not a file", as_json, 2)
        source = str(path.resolve())
    _migrate(settings, as_json)
    outcome = run_job(settings, source, options, show_progress=not as_json, console=err_console)
    _report(settings, outcome.job_id, as_json)


def _report(settings: Settings, job_id: str, as_json: bool) -> None:
    """The job's outcome and clips; exit status 1 unless it completed."""
    result = render.job_result(settings, job_id)
    if as_json:
        emit(result)
    else:
        render.print_result(console, result)
    if result["status"] != "completed":
        raise typer.Exit(1)


@app.command()
def process(
    source: Annotated[str, typer.Argument(help="A lecture file, or an s3://bucket/key URL.")],
    clips: Annotated[int | None, typer.Option("--clips", min=1, max=50, help="How many clips (default 5, fewer on a short lecture).")] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="original | vertical (9:16: 1080x1920, 720x1280 for screens up to 720 px wide).",
        ),
    ] = None,
    min_len: Annotated[float | None, typer.Option("--min-len", min=1, help="Shortest clip, seconds (default 30).")] = None,
    max_len: Annotated[float | None, typer.Option("--max-len", min=1, help="Longest clip, seconds (default 90, less on a short lecture).")] = None,
    burn_captions: Annotated[bool, typer.Option("--burn-captions", help="Burn subtitles into the video.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Process a lecture: transcribe, find topics, cut and render the best clips."""
    options: dict[str, Any] = {}
    if clips is not None:
        options["clips"] = clips
    if fmt is not None:
        if fmt not in ("original", "vertical"):
            raise fail(f"--format {fmt!r} is not valid; use original or vertical", as_json, 2)
        options["format"] = fmt
    if min_len is not None:
        options["min_len"] = min_len
    if max_len is not None:
        options["max_len"] = max_len
    if min_len is not None and max_len is not None and max_len < min_len:
        raise fail("--max-len is shorter than --min-len", as_json, 2)
    if burn_captions:
        options["burn_captions"] = True
    _process(source, options, as_json)


@app.command()
def demo(as_json: JsonOpt = False) -> None:
    """Process the short sample lecture shipped with the tool (no keys, no services)."""
    if not SAMPLE_LECTURE.exists():
        raise fail(f"the sample lecture is missing from the installation: {SAMPLE_LECTURE}", as_json)
    # Three clips: the sample runs 3.5 minutes, so the default plan, kept to a quarter of
    # a short lecture, would be a single clip and show no ranking.
    _process(str(SAMPLE_LECTURE), {"clips": 3}, as_json)


def _with_session(settings: Settings):  # type: ignore[no-untyped-def]
    from db.engine import get_engine, session_scope

    return session_scope(get_engine(settings))


@app.command()
def jobs(
    status: Annotated[str | None, typer.Option(help="queued, running, completed or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List jobs, newest first."""
    settings = settings_or_exit(as_json)
    from db.queries import QueryError, list_jobs

    try:
        with _with_session(settings) as session:
            rows = [render.job_dict(j) for j in list_jobs(session, status=status, limit=limit)]
    except QueryError as exc:
        raise fail(str(exc), as_json, 2) from None
    if as_json:
        emit(rows)
    else:
        render.print_jobs(console, rows)


def _bundle(settings: Settings, job_id: str, as_json: bool) -> dict[str, Any]:
    from db.queries import get_job_bundle

    with _with_session(settings) as session:
        bundle = get_job_bundle(session, job_id)
        if bundle is None:
            raise fail(f"no job with id {job_id}", as_json)
        return render.bundle_dict(bundle)


@app.command()
def show(job_id: str, as_json: JsonOpt = False) -> None:
    """A job with all its related data: transcript, silences, layout, topics, clips, logs."""
    settings = settings_or_exit(as_json)
    data = _bundle(settings, job_id, as_json)
    if as_json:
        emit(data)
    else:
        render.print_bundle(console, data)


@app.command()
def clips(job_id: str, limit: Annotated[int, typer.Option(min=1, max=100)] = 5,
          as_json: JsonOpt = False) -> None:
    """The job's top clips by importance."""
    settings = settings_or_exit(as_json)
    from db.queries import get_job, top_clips

    with _with_session(settings) as session:
        if get_job(session, job_id) is None:
            raise fail(f"no job with id {job_id}", as_json)
        rows = [render.clip_dict(settings, c) for c in top_clips(session, job_id, limit)]
    if as_json:
        emit(rows)
    else:
        render.print_clips(console, rows)


@app.command()
def transcript(job_id: str,
               fmt: Annotated[str, typer.Option("--format", help="txt | srt | vtt")] = "txt",
               as_json: JsonOpt = False) -> None:
    """The full transcript of a job, as text, SRT or VTT."""
    settings = settings_or_exit(as_json)
    if fmt not in ("txt", "srt", "vtt"):
        raise fail(f"--format {fmt!r} is not valid; use txt, srt or vtt", as_json, 2)
    from db.queries import full_transcript, get_job
    from highlights.storage import open_storage
    from highlights.transcript_export import render_transcript

    with _with_session(settings) as session:
        if get_job(session, job_id) is None:
            raise fail(f"no job with id {job_id}", as_json)
        lines = full_transcript(session, job_id)
    text = render_transcript(open_storage(settings), job_id, lines, fmt)
    if as_json:
        emit({"job_id": job_id, "format": fmt, "segments": [render.line_dict(x) for x in lines],
              "text": text})
    else:
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


@app.command()
def search(job_id: str, query: str,
           limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
           as_json: JsonOpt = False) -> None:
    """Search what was said and what the slides show; best hits first."""
    settings = settings_or_exit(as_json)
    from db.queries import get_job, topic_spans
    from highlights.search import SearchQueryError, TopicSpan, load_lecture_text, search_lecture
    from highlights.storage import open_storage

    with _with_session(settings) as session:
        if get_job(session, job_id) is None:
            raise fail(f"no job with id {job_id}", as_json)
        topics = [TopicSpan(*span) for span in topic_spans(session, job_id)]
    transcript, slides = load_lecture_text(open_storage(settings), job_id)
    try:
        hits = search_lecture(query, transcript, slides, topics, limit=limit)
    except SearchQueryError as exc:
        raise fail(str(exc), as_json, 2) from None
    if as_json:
        emit({"hits": [h.to_dict() for h in hits]})
    else:
        render.print_search_hits(console, query, [h.to_dict() for h in hits])


@app.command()
def timeline(job_id: str, as_json: JsonOpt = False) -> None:
    """The job's processing timeline: every stage attempt with its outcome and time."""
    settings = settings_or_exit(as_json)
    from db.queries import get_job, processing_timeline

    with _with_session(settings) as session:
        if get_job(session, job_id) is None:
            raise fail(f"no job with id {job_id}", as_json)
        rows = [render.timeline_dict(e) for e in processing_timeline(session, job_id)]
    if as_json:
        emit(rows)
    else:
        render.print_timeline(console, rows)


@app.command()
def retry(job_id: str,
          force: Annotated[bool, typer.Option(help="Also retry a job still marked running (e.g. after a crash).")] = False,
          as_json: JsonOpt = False) -> None:
    """Resume a failed job from the first stage that did not complete."""
    settings = settings_or_exit(as_json)
    from db.queries import get_job

    with _with_session(settings) as session:
        job = get_job(session, job_id)
        if job is None:
            raise fail(f"no job with id {job_id}", as_json)
        status = job.status
    if status == "completed":
        raise fail(f"job {job_id} already completed; nothing to retry", as_json, 2)
    if status == "running" and not force:
        raise fail(f"job {job_id} is marked running; if its process died, use --force", as_json, 2)
    run_job(settings, None, {}, job_id=job_id, resume=True, show_progress=not as_json,
            console=err_console)
    _report(settings, job_id, as_json)


@app.command()
def delete(job_id: str, as_json: JsonOpt = False) -> None:
    """Delete a job: its rows in every table and its stored files."""
    settings = settings_or_exit(as_json)
    from db.queries import delete_job
    from highlights.storage import open_storage

    with _with_session(settings) as session:
        found = delete_job(session, job_id)
    if not found:
        raise fail(f"no job with id {job_id}", as_json)
    removed = open_storage(settings).delete_job(job_id)
    if as_json:
        emit({"job_id": job_id, "deleted": True, "objects_removed": removed})
    else:
        console.print(f"Deleted job {job_id} and {removed} stored file(s).")


def parse_age(text: str) -> float:
    """'30d', '12h', '90m' or a bare number of days -> days."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dhm]?)\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not an age; use e.g. 30d, 12h or 90m")
    value, unit = float(match.group(1)), match.group(2) or "d"
    return value / {"d": 1, "h": 24, "m": 1440}[unit]


@app.command()
def cleanup(older_than: Annotated[str, typer.Option("--older-than", help="Age, e.g. 30d or 12h.")] = "30d",
            as_json: JsonOpt = False) -> None:
    """Delete completed and failed jobs older than an age, with their stored files."""
    settings = settings_or_exit(as_json)
    try:
        days = parse_age(older_than)
    except ValueError as exc:
        raise fail(str(exc), as_json, 2) from None
    from flows.maintenance import cleanup_jobs

    removed = cleanup_jobs(settings, days)
    if as_json:
        emit({"older_than_days": days, "deleted_jobs": removed})
    else:
        console.print(f"Deleted {len(removed)} job(s) older than {days:g} day(s).")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    max_parallel_jobs: Annotated[int, typer.Option(
        "--max-parallel-jobs", min=1, max=16,
        help="Jobs run at once by this server when no Prefect server is configured.")] = 1,
) -> None:
    """Serve the HTTP API and the results page."""
    settings = settings_or_exit(False)
    _migrate(settings, False)
    from api.server import ApiConfigError
    from api.server import serve as serve_api

    try:
        serve_api(settings, host=host, port=port, max_parallel_jobs=max_parallel_jobs)
    except ApiConfigError as exc:
        raise fail(str(exc), False, 2) from None


@db_app.command("size")
def db_size(as_json: JsonOpt = False) -> None:
    """Rows and disk size of each table, largest first (disk size on PostgreSQL only)."""
    settings = settings_or_exit(as_json)
    from db.queries import table_sizes

    with _with_session(settings) as session:
        sizes = table_sizes(session)
    if as_json:
        emit({"tables": [{"table": s.table, "rows": s.rows, "total_bytes": s.total_bytes}
                         for s in sizes]})
        return
    for size in sizes:
        rows = f"{size.rows} row{'s' if size.rows != 1 else ''}"
        disk = f"  {size.pretty}" if size.total_bytes is not None else ""
        console.print(f"{size.table:<20} {rows:>14}{disk}")


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOpt = False) -> None:
    """Create or migrate the database schema to the latest revision."""
    settings = settings_or_exit(as_json)
    _migrate(settings, as_json)
    from db.engine import describe_url

    if as_json:
        emit({"database": describe_url(settings.database_url), "revision": "head"})
    else:
        console.print(f"Database {describe_url(settings.database_url)} is at the latest revision.")


if __name__ == "__main__":  # pragma: no cover
    app()
