"""Rows to plain dicts (for --json) and to rich tables (for people)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from highlights.settings import Settings
from highlights.transcript_export import clock


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_dict(job: Any) -> dict[str, Any]:
    return {
        "job_id": job.job_id, "filename": job.filename, "status": job.status,
        "current_stage": job.current_stage, "progress_percent": job.progress_percent,
        "progress_message": job.progress_message, "eta_seconds": job.eta_seconds,
        "error_message": job.error_message, "file_size": job.file_size,
        "content_type": job.content_type, "original_s3_key": job.original_s3_key,
        "video_duration": job.video_duration, "video_metadata": job.video_metadata,
        "flow_run_id": job.flow_run_id, "metadata": job.metadata_,
        "created_at": _iso(job.created_at), "updated_at": _iso(job.updated_at),
        "completed_at": _iso(job.completed_at),
    }


def clip_dict(settings: Settings | None, clip: Any, storage: Any = None) -> dict[str, Any]:
    data = {
        "clip_id": clip.clip_id, "rank": clip.clip_order, "title": clip.title, "topic": clip.topic,
        "importance_score": clip.importance_score, "start_time": clip.start_time,
        "end_time": clip.end_time, "duration": clip.duration, "s3_key": clip.s3_key,
        "thumbnail_s3_key": clip.thumbnail_s3_key, "subtitle_s3_key": clip.subtitle_s3_key,
        "content_segment_id": clip.content_segment_id, "metadata": clip.metadata_,
    }
    if settings is not None:
        from highlights.storage import open_storage

        storage = storage or open_storage(settings)
        data["location"] = _location(storage, clip.s3_key)
    return data


def _location(storage: Any, key: str) -> str:
    """A path for local storage (what a laptop user wants to open), a URL for S3."""
    if getattr(storage, "backend", "") == "local":
        return str(storage.root / key)
    return storage.url(key)


def line_dict(line: Any) -> dict[str, Any]:
    return asdict(line)


def timeline_dict(entry: Any) -> dict[str, Any]:
    data = asdict(entry)
    data["created_at"] = _iso(entry.created_at)
    return data


def bundle_dict(bundle: Any) -> dict[str, Any]:
    layout = bundle.layout
    return {
        "job": job_dict(bundle.job),
        "transcripts": [{"segment_id": t.segment_id, "start_time": t.start_time, "end_time": t.end_time,
                         "text": t.text, "confidence": t.confidence, "speaker_id": t.speaker_id}
                        for t in bundle.transcripts],
        "silence_regions": [{"region_id": r.region_id, "start_time": r.start_time, "end_time": r.end_time,
                             "duration": r.duration, "silence_type": r.silence_type,
                             "amplitude_threshold": r.amplitude_threshold} for r in bundle.silence_regions],
        "layout_analysis": None if layout is None else {
            "layout_id": layout.layout_id, "layout_type": layout.layout_type,
            "screen_region": layout.screen_region, "camera_region": layout.camera_region,
            "split_ratio": layout.split_ratio, "confidence_score": layout.confidence_score,
            "sample_frame_time": layout.sample_frame_time},
        "content_segments": [{"segment_id": s.segment_id, "segment_order": s.segment_order,
                              "start_time": s.start_time, "end_time": s.end_time, "duration": s.duration,
                              "topic": s.topic, "description": s.description,
                              "importance_score": s.importance_score, "keywords": s.keywords,
                              "concepts": s.concepts} for s in bundle.content_segments],
        "clips": [clip_dict(None, c) for c in bundle.clips],
        "processing_logs": [{"log_id": g.log_id, "stage": g.stage, "agent_name": g.agent_name,
                             "status": g.status, "duration_seconds": g.duration_seconds,
                             "error_message": g.error_message, "metadata": g.metadata_,
                             "created_at": _iso(g.created_at)} for g in bundle.logs],
    }


def job_result(settings: Settings, job_id: str) -> dict[str, Any]:
    """What `process`, `demo` and `retry` report: the job and its ranked clips."""
    from db.engine import get_engine, session_scope
    from db.queries import get_job
    from highlights.storage import open_storage

    storage = open_storage(settings)
    with session_scope(get_engine(settings)) as session:
        job = get_job(session, job_id)
        assert job is not None
        clips = sorted(job.clips, key=lambda c: c.clip_order or 0)
        result = job_dict(job)
        result["clips"] = [clip_dict(settings, c, storage) for c in clips]
        counts = {"transcripts": len(job.transcripts), "silence_regions": len(job.silence_regions),
                  "content_segments": len(job.content_segments), "clips": len(clips),
                  "processing_logs": len(job.logs), "layout_analysis": int(job.layout is not None)}
        # What stages noticed and worked around (no audio, a fallback analyzer...).
        result["notes"] = [f"{g.stage}: {note}" for g in job.logs if g.status == "completed"
                           for note in (g.metadata_ or {}).get("notes", []) or []]
    result["row_counts"] = counts
    chapters_key = f"results/{job_id}/chapters.txt"
    result["chapters"] = (storage.read_bytes(chapters_key).decode("utf-8")
                          if storage.exists(chapters_key) else None)
    result["results_location"] = _location(storage, f"results/{job_id}")
    return result


# -- printing ------------------------------------------------------------------------


def print_result(console: Console, result: dict[str, Any]) -> None:
    if result["status"] != "completed":
        console.print(f"[bold red]Job {result['job_id']} {result['status']}:[/] {result['error_message']}")
        console.print(f"See the timeline: highlights timeline {result['job_id']}")
        return
    print_clips(console, result["clips"], title=f"Highlights of {result['filename']}")
    for note in result.get("notes", []):
        console.print(f"[yellow]note:[/] {note}")
    if result.get("chapters"):
        console.print("[bold]Chapters[/]")
        console.print(result["chapters"].rstrip())
    console.print(f"Results in {result['results_location']}")
    console.print(f"Job id: [bold]{result['job_id']}[/]")


def print_clips(console: Console, clips: list[dict[str, Any]], title: str = "Top clips") -> None:
    table = Table(title=title)
    for name in ("#", "Title", "Span", "Score", "File"):
        table.add_column(name, overflow="fold")
    for c in clips:
        table.add_row(str(c["rank"]), c["title"], f"{clock(c['start_time'])}-{clock(c['end_time'])}",
                      f"{c['importance_score']:.2f}" if c["importance_score"] is not None else "-",
                      c.get("location") or c["s3_key"])
    if not clips:
        console.print("No clips.")
    else:
        console.print(table)


def print_jobs(console: Console, jobs: list[dict[str, Any]]) -> None:
    table = Table(title="Jobs")
    for name in ("Job id", "File", "Status", "Stage", "Progress", "Created"):
        table.add_column(name, overflow="fold")
    for j in jobs:
        table.add_row(j["job_id"], j["filename"], j["status"], j["current_stage"] or "-",
                      f"{j['progress_percent'] or 0:.0f}%", (j["created_at"] or "")[:19])
    console.print(table if jobs else "No jobs yet.")


def print_timeline(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table(title="Processing timeline")
    for name in ("Time", "Stage", "Agent", "Status", "Seconds"):
        table.add_column(name, overflow="fold")
    for r in rows:
        secs = "-" if r["duration_seconds"] is None else f"{r['duration_seconds']:.2f}"
        table.add_row((r["created_at"] or "")[11:19], r["stage"], r["agent_name"] or "-", r["status"], secs)
    console.print(table)


def print_search_hits(console: Console, query: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print(f"No hits for {query!r}.")
        return
    table = Table(title=f"Search: {query}")
    for name in ("Time", "Where", "Text", "Topic"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(f"{clock(r['start_time'])}-{clock(r['end_time'])}", r["source"], r["text"],
                      r["topic"] or "-")
    console.print(table)


def print_bundle(console: Console, data: dict[str, Any]) -> None:
    job = data["job"]
    console.print(f"[bold]{job['job_id']}[/]  {job['filename']}  status={job['status']}  "
                  f"duration={clock(job['video_duration'])}")
    if job["error_message"]:
        console.print(f"[red]{job['error_message']}[/]")
    layout = data["layout_analysis"]
    if layout:
        console.print(f"Layout: {layout['layout_type']} (confidence {layout['confidence_score'] or 0:.2f})")
    console.print(f"Transcript segments: {len(data['transcripts'])}, silences: {len(data['silence_regions'])}")
    topics = Table(title="Topics")
    for name in ("#", "Span", "Topic", "Score"):
        topics.add_column(name, overflow="fold")
    for s in data["content_segments"]:
        topics.add_row(str(s["segment_order"]), f"{clock(s['start_time'])}-{clock(s['end_time'])}",
                       s["topic"], f"{s['importance_score']:.2f}")
    console.print(topics)
    print_clips(console, data["clips"], title="Clips")
