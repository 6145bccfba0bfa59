"""The HTTP API against a real SQLite database and a real local store (and S3 on loopback).

Read endpoints are checked on seeded rows. The HTTP layer of submit/retry is checked with
a launcher that records what it is handed (`RecordingLauncher`); the real runners are
checked on their own: the local runner runs real flows in child processes, the Prefect
runner starts runs of the deployment on a real Prefect server, and a
300 MB upload goes through `highlights serve` in a subprocess to prove it is streamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.errors import ApiConfigError
from api.launcher import JobLauncher, LaunchError, LocalLauncher
from db.engine import get_engine, session_scope
from db.models import ALL_MODELS, Job
from highlights.settings import Settings
from highlights.storage import Storage, open_storage
from highlights.types import Slide, SlideLine, Transcript, TranscriptSegment
from tests.api_helpers import (
    AUTH,
    SRT,
    TOKEN,
    VTT,
    api_environment,
    apply_environment,
    live_server,
    make_media,
    seed_job,
)


class RecordingLauncher(JobLauncher):
    """Records the jobs the API hands over (the real runners have their own tests below)."""

    kind = "local"

    def __init__(self) -> None:
        self.started: list[tuple[str, bool]] = []
        self.error: Exception | None = None

    async def start(self, job_id: str, *, resume: bool = False) -> str | None:
        if self.error is not None:
            raise self.error
        self.started.append((job_id, resume))
        return None


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_media(tmp_path_factory.mktemp("media") / "talk.mp4", seconds=2.0)


@pytest.fixture
def env(tmp_path: Path, sqlite_template: Path) -> dict[str, str]:
    return api_environment(tmp_path, sqlite_template)


@pytest.fixture
def settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    return apply_environment(monkeypatch, env)


@pytest.fixture
def store(settings: Settings) -> Storage:
    return open_storage(settings)


@pytest.fixture
def launcher() -> RecordingLauncher:
    return RecordingLauncher()


@pytest.fixture
def client(settings: Settings, launcher: RecordingLauncher) -> Iterator[TestClient]:
    with TestClient(create_app(settings, launcher=launcher)) as test_client:
        yield test_client


@pytest.fixture
def seeded(settings: Settings, store: Storage, media: Path):
    return seed_job(settings, store, "job-seeded-000001", clip_video=media.read_bytes())


def row_counts(settings: Settings, job_id: str) -> dict[str, int]:
    with session_scope(get_engine(settings)) as session:
        return {
            model.__tablename__: int(session.scalar(
                select(func.count()).select_from(model).where(model.job_id == job_id)) or 0)
            for model in ALL_MODELS
        }  # fmt: skip


def job_row(settings: Settings, job_id: str) -> Job | None:
    with session_scope(get_engine(settings)) as session:
        return session.scalars(select(Job).where(Job.job_id == job_id)).one_or_none()


def incoming_files(settings: Settings) -> list[Path]:
    folder = settings.work_dir / "incoming"
    return sorted(folder.iterdir()) if folder.exists() else []


# -- authentication --------------------------------------------------------------------


def test_every_api_route_needs_the_token(client: TestClient, seeded) -> None:
    job = seeded.job_id
    routes = [
        ("get", "/jobs"),
        ("get", f"/jobs/{job}"),
        ("get", f"/jobs/{job}/clips"),
        ("get", f"/jobs/{job}/transcript"),
        ("get", f"/jobs/{job}/segments"),
        ("get", f"/jobs/{job}/timeline"),
        ("get", f"/jobs/{job}/search?q=tree"),
        ("post", f"/jobs/{job}/retry"),
        ("delete", f"/jobs/{job}"),
        ("post", "/jobs"),
        ("get", "/info"),
        ("get", f"/files/uploads/{job}/lecture.mp4"),
    ]
    for method, path in routes:
        missing = client.request(method, path)
        assert missing.status_code == 401, (method, path, missing.text)
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in missing.json()["detail"]
        wrong = client.request(method, path, headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401, (method, path)
        assert wrong.json()["detail"] == "the bearer token is not valid"
    assert client.get("/jobs", headers=AUTH).status_code == 200
    assert client.get("/health").json() == {"status": "ok"}
    assert row_counts(client.app.state.context.settings, job)["jobs"] == 1  # nothing was deleted


def test_no_token_refuses_to_build_the_app_unless_auth_is_disabled(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    env = {k: v for k, v in env.items() if k != "HIGHLIGHTS_API_TOKEN"}
    monkeypatch.delenv("HIGHLIGHTS_API_TOKEN", raising=False)
    settings = apply_environment(monkeypatch, env)
    with pytest.raises(ApiConfigError, match="HIGHLIGHTS_API_TOKEN.*HIGHLIGHTS_API_AUTH=disabled"):
        create_app(settings, launcher=RecordingLauncher())
    monkeypatch.setenv("HIGHLIGHTS_API_AUTH", "disabled")
    open_settings = apply_environment(monkeypatch, {**env, "HIGHLIGHTS_API_AUTH": "disabled"})
    with TestClient(create_app(open_settings, launcher=RecordingLauncher())) as open_client:
        assert open_client.get("/jobs").status_code == 200
        assert open_client.get("/").headers["content-type"].startswith("text/html")
        assert 'id="upload-form"' in open_client.get("/").text


def test_page_login_sets_a_session_cookie_and_requires_the_csrf_header(
    client: TestClient, seeded
) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'action="/login"' in page.text  # the login form
    assert "upload-form" not in page.text
    bad = client.get("/?token=wrong")
    assert bad.status_code == 401 and "not valid" in bad.text
    assert "highlights_session" not in client.cookies

    login = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "http://testserver/"
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and TOKEN not in cookie
    app_page = client.get("/")
    assert 'id="upload-form"' in app_page.text
    assert "script-src 'self'" in app_page.headers["content-security-policy"]

    assert client.get("/jobs").status_code == 200  # the cookie authenticates reads
    refused = client.post(f"/jobs/{seeded.job_id}/retry")
    assert refused.status_code == 403 and "X-Highlights-Request" in refused.json()["detail"]
    allowed = client.post(f"/jobs/{seeded.job_id}/retry", headers={"X-Highlights-Request": "1"})
    assert allowed.status_code == 409  # past auth: a completed job cannot be retried

    client.post("/logout")
    assert client.get("/jobs").status_code == 401
    form = client.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert form.status_code == 303 and client.get("/jobs").status_code == 200
    assert client.post("/login", data={"token": "nope"}).status_code == 401


# -- reading ---------------------------------------------------------------------------


def test_list_jobs_paginates_newest_first_and_filters_by_status(
    client: TestClient, settings: Settings, store: Storage
) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    statuses = ["completed", "failed", "running", "queued", "completed"]
    for index, status in enumerate(statuses):
        seed_job(
            settings,
            store,
            f"job-list-{index}",
            status=status,
            created_at=start + timedelta(minutes=index),
            with_results=False,
        )
    first = client.get("/jobs", params={"limit": 2}, headers=AUTH).json()
    assert [j["job_id"] for j in first["items"]] == ["job-list-4", "job-list-3"]
    assert (first["total"], first["limit"], first["offset"], first["next_offset"]) == (5, 2, 0, 2)
    last = client.get("/jobs", params={"limit": 2, "offset": 4}, headers=AUTH).json()
    assert [j["job_id"] for j in last["items"]] == ["job-list-0"] and last["next_offset"] is None
    done = client.get("/jobs", params={"status": "completed"}, headers=AUTH).json()
    assert {j["job_id"] for j in done["items"]} == {"job-list-0", "job-list-4"}
    assert done["total"] == 2
    running = client.get("/jobs", params={"status": "running"}, headers=AUTH).json()["items"][0]
    assert running["eta_seconds"] == 95 and running["current_stage"] == "transcription"
    assert running["links"]["self"] == "http://testserver/jobs/job-list-2"
    for params in ({"status": "paused"}, {"limit": 0}, {"limit": 201}, {"offset": -1}):
        bad = client.get("/jobs", params=params, headers=AUTH)
        assert bad.status_code == 422, params
        assert bad.json()["detail"].startswith("query.")


def test_job_detail_reports_status_progress_layout_and_links(
    client: TestClient, seeded, settings: Settings, store: Storage
) -> None:
    body = client.get(f"/jobs/{seeded.job_id}", headers=AUTH).json()
    assert body["status"] == "completed" and body["progress_percent"] == 100.0
    assert body["clip_count"] == 2 and body["options"] == {"clips": 2}
    assert body["layout"]["layout_type"] == "side_by_side"
    assert body["layout"]["screen_region"]["width"] == 0.7
    assert body["links"]["clips"] == f"http://testserver/jobs/{seeded.job_id}/clips"
    assert body["links"]["page"] == f"http://testserver/#job={seeded.job_id}"
    original = client.get(body["source_url"])  # signed: no header needed
    assert original.status_code == 200 and original.content == seeded.clip_video

    failed = seed_job(settings, store, "job-failed-1", status="failed", with_results=False)
    detail = client.get(f"/jobs/{failed.job_id}", headers=AUTH).json()
    assert detail["error_message"] == "transcription: the audio stream does not decode"
    assert detail["layout"] is None and detail["clip_count"] == 0

    missing = client.get("/jobs/job-does-not-exist", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no job with id 'job-does-not-exist'"}
    for suffix in ("", "/clips", "/transcript", "/segments", "/timeline"):
        assert client.get(f"/jobs/nope{suffix}", headers=AUTH).status_code == 404
    assert client.get("/jobs/" + "x" * 101, headers=AUTH).status_code == 422


def test_clips_are_ranked_with_working_signed_urls(client: TestClient, seeded) -> None:
    clips = client.get(f"/jobs/{seeded.job_id}/clips", headers=AUTH).json()["items"]
    assert [c["clip_id"] for c in clips] == seeded.clip_ids
    assert [c["rank"] for c in clips] == [1, 2]
    assert clips[0]["title"] == "Balanced trees" and clips[0]["importance_score"] == 0.9
    first = clips[0]
    # Browsers load these with no Authorization header: the signature is the credential.
    video = client.get(first["video_url"])
    assert video.status_code == 200 and video.content == seeded.clip_video
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["accept-ranges"] == "bytes"
    vtt = client.get(first["subtitles_vtt_url"])
    assert vtt.text == VTT and vtt.headers["content-type"] == "text/vtt; charset=utf-8"
    assert client.get(first["subtitles_srt_url"]).text == SRT
    assert client.get(first["thumbnail_url"]).headers["content-type"] == "image/jpeg"

    # Seeking: a byte range answers 206 with exactly those bytes.
    ranged = client.get(first["video_url"], headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == seeded.clip_video[100:200]
    total = len(seeded.clip_video)
    assert ranged.headers["content-range"] == f"bytes 100-199/{total}"
    tail = client.get(first["video_url"], headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == seeded.clip_video[-50:]
    beyond = client.get(first["video_url"], headers={"Range": f"bytes={total + 10}-"})
    assert beyond.status_code == 416

    url = urlsplit(first["video_url"])
    query = parse_qs(url.query)
    forged = client.get(f"{url.path}?expires={query['expires'][0]}&signature={'0' * 64}")
    assert forged.status_code == 401
    other_key = url.path.replace(".mp4", ".jpg")  # a signature is bound to its key
    assert client.get(f"{other_key}?{url.query}").status_code == 401
    past = int(time.time()) - 10
    signer = client.app.state.auth
    expired = f"{url.path}?expires={past}&signature={signer.sign(url.path[len('/files/') :], past)}"
    assert client.get(expired).status_code == 401
    assert client.get(url.path, headers=AUTH).status_code == 200  # or the bearer token


def test_files_route_never_leaves_the_public_part_of_the_store(
    client: TestClient, seeded, settings: Settings, tmp_path: Path, store: Storage
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the store")
    store.put_bytes(b"intermediate", f"work/{seeded.job_id}/audio.wav")
    link = Path(settings.storage_url) / "results" / seeded.job_id / "escape.txt"
    os.symlink(secret, link)
    for path in (
        f"/files/results/{seeded.job_id}/../../../secret.txt",
        "/files/results/%2e%2e/%2e%2e/secret.txt",
        f"/files/work/{seeded.job_id}/audio.wav",
        f"/files/results/{seeded.job_id}/escape.txt",
        "/files//etc/passwd",
        f"/files/results/{seeded.job_id}/missing.mp4",
    ):
        response = client.get(path, headers=AUTH)
        assert response.status_code == 404, (path, response.status_code)
        assert "outside the store" not in response.text


def test_transcript_as_json_srt_and_vtt(client: TestClient, seeded) -> None:
    body = client.get(f"/jobs/{seeded.job_id}/transcript", headers=AUTH).json()
    assert [s["start_time"] for s in body["segments"]] == [12.0, 15.5, 121.0]
    assert body["text"].startswith("Binary search trees keep keys in order. Hashing")
    srt = client.get(f"/jobs/{seeded.job_id}/transcript", params={"format": "srt"}, headers=AUTH)
    assert srt.headers["content-type"].startswith("application/x-subrip")
    assert "00:00:12,000 -->" in srt.text and "logarithmic height" in srt.text
    vtt = client.get(f"/jobs/{seeded.job_id}/transcript", params={"format": "vtt"}, headers=AUTH)
    assert vtt.text.startswith("WEBVTT") and "00:02:01.000 -->" in vtt.text
    bad = client.get(f"/jobs/{seeded.job_id}/transcript", params={"format": "docx"}, headers=AUTH)
    assert bad.status_code == 422 and "format" in bad.json()["detail"]


def test_segments_and_timeline(client: TestClient, seeded) -> None:
    segments = client.get(f"/jobs/{seeded.job_id}/segments", headers=AUTH).json()
    assert segments["video_duration"] == 240.0
    assert [s["topic"] for s in segments["items"]] == ["Hash tables", "Balanced trees"]
    # Each segment names the clip cut from it (rank 2 came from the first segment).
    assert [s["clip_id"] for s in segments["items"]] == [seeded.clip_ids[1], seeded.clip_ids[0]]
    timeline = client.get(f"/jobs/{seeded.job_id}/timeline", headers=AUTH).json()["items"]
    assert [(t["stage"], t["status"]) for t in timeline] == [
        ("uploading", "started"),
        ("uploading", "completed"),
        ("transcription", "failed"),
    ]
    assert timeline[1]["duration_seconds"] == 1.5 and timeline[1]["agent_name"] == "ingest (PyAV)"
    assert timeline[2]["error_message"] == "the audio stream does not decode"


# -- submitting ------------------------------------------------------------------------


def test_search_finds_spoken_words_and_words_only_on_slides(
    client: TestClient, seeded, store: Storage
) -> None:
    job = seeded.job_id
    transcript = Transcript(segments=[
        TranscriptSegment(12.0, 15.0, "Binary search trees keep keys in order.", 0.9),
        TranscriptSegment(121.0, 125.0, "A balanced tree has logarithmic height.", 0.9),
    ], language="en", provider="test", model="test")  # fmt: skip
    store.put_bytes(json.dumps(transcript.to_dict()).encode(), f"results/{job}/transcript.json")
    slides = [Slide(100.0, 160.0, "AVL rotations", (SlideLine("Rebalancing after insertion", 0.95),), 0.95)]
    store.put_bytes(json.dumps({"slide_changes": [100.0], "slides": [s.to_dict() for s in slides]}).encode(),
                    f"results/{job}/slides.json")

    found = client.get(f"/jobs/{job}/search", params={"q": "rebalancing"}, headers=AUTH)
    assert found.status_code == 200, found.text
    assert found.json() == {"hits": [{"start_time": 100.0, "end_time": 160.0, "source": "slide",
                                      "text": "Rebalancing after insertion", "topic": "Balanced trees"}]}
    trees = client.get(f"/jobs/{job}/search", params={"q": "tree"}, headers=AUTH).json()["hits"]
    assert [(h["source"], h["start_time"], h["topic"]) for h in trees] == [
        ("transcript", 12.0, "Hash tables"), ("transcript", 121.0, "Balanced trees")]
    assert client.get(f"/jobs/{job}/search", params={"q": "zebra"}, headers=AUTH).json() == {"hits": []}
    assert client.get(f"/jobs/{job}/search", params={"q": ""}, headers=AUTH).status_code == 422
    assert client.get(f"/jobs/{job}/search", params={"q": "?!"}, headers=AUTH).status_code == 422
    assert client.get("/jobs/nope/search", params={"q": "tree"}, headers=AUTH).status_code == 404


def test_upload_creates_a_queued_job_with_the_file_stored_and_starts_it(
    client: TestClient,
    launcher: RecordingLauncher,
    settings: Settings,
    store: Storage,
    media: Path,
) -> None:
    data = media.read_bytes()
    response = client.post(
        "/jobs", headers=AUTH,
        data={"clips": "3", "format": "vertical", "min_len": "20", "burn_captions": "true"},
        files={"file": ("../My Lecture: week 1.mp4", data, "video/mp4")},
    )  # fmt: skip
    assert response.status_code == 202, response.text
    body = response.json()
    job_id = body["job_id"]
    assert body["status"] == "queued" and body["runner"] == "local"
    assert response.headers["location"] == f"http://testserver/jobs/{job_id}"
    assert launcher.started == [(job_id, False)]
    job = job_row(settings, job_id)
    assert job is not None and job.status == "queued"
    assert job.filename == "My Lecture_ week 1.mp4"  # the path is dropped, ':' replaced
    assert job.original_s3_key == f"uploads/{job_id}/My Lecture_ week 1.mp4"
    assert job.metadata_["options"] == {
        "clips": 3,
        "format": "vertical",
        "min_len": 20.0,
        "burn_captions": True,
    }
    assert job.metadata_["upload_sha256"] == hashlib.sha256(data).hexdigest()
    assert job.file_size == len(data)
    assert store.read_bytes(job.original_s3_key) == data
    assert incoming_files(settings) == []  # the temp file was moved, not left behind
    listed = client.get(f"/jobs/{job_id}", headers=AUTH).json()
    assert listed["status"] == "queued" and listed["progress_message"] == "Waiting to start"


def test_upload_refusals_leave_nothing_behind(
    client: TestClient,
    launcher: RecordingLauncher,
    settings: Settings,
    store: Storage,
    media: Path,
) -> None:
    data = media.read_bytes()
    cases = [
        (
            {"files": {"file": ("notes.txt", b"just some text\n" * 5000, "video/mp4")}},
            415,
            "not an audio or video file",
        ),
        ({"files": {"file": ("empty.mp4", b"", "video/mp4")}}, 422, "empty"),
        (
            {"data": {"clips": "3"}, "files": {"other": ("a.mp4", data, "video/mp4")}},
            422,
            "field named 'file'",
        ),
        ({"files": {"clips": (None, "3")}}, 422, "no file"),  # multipart without a file
        ({"data": {"clips": "3"}}, 415, "multipart/form-data"),  # a urlencoded form
        (
            {"data": {"clips": "0"}, "files": {"file": ("a.mp4", data, "video/mp4")}},
            422,
            "clips: Input should be greater than or equal to 1",
        ),
        (
            {"data": {"format": "square"}, "files": {"file": ("a.mp4", data, "video/mp4")}},
            422,
            "format",
        ),
        (
            {"data": {"speed": "2"}, "files": {"file": ("a.mp4", data, "video/mp4")}},
            422,
            "speed: Extra inputs are not permitted",
        ),
        (
            {
                "data": {"min_len": "60", "max_len": "30"},
                "files": {"file": ("a.mp4", data, "video/mp4")},
            },
            422,
            "max_len 30 is shorter than min_len 60",
        ),
        # Only min_len given, above the server's default max_len (90 s).
        (
            {"data": {"min_len": "120"}, "files": {"file": ("a.mp4", data, "video/mp4")}},
            422,
            "max_len 90 s is shorter than min_len 120 s",
        ),
        (
            {"content": b"file=lecture.mp4", "headers": {"Content-Type": "text/plain"}},
            415,
            "multipart/form-data",
        ),
        (
            {
                "content": b"--x\r\nbroken",
                "headers": {"Content-Type": "multipart/form-data; boundary=x"},
            },
            422,
            "",
        ),
        ({"content": b"{}", "headers": {"Content-Type": "multipart/form-data"}}, 422, "boundary"),
    ]
    for kwargs, status, message in cases:
        headers = {**AUTH, **kwargs.pop("headers", {})}
        response = client.post("/jobs", headers=headers, **kwargs)
        assert response.status_code == status, (kwargs, response.text)
        assert message in response.json()["detail"], response.json()
    assert launcher.started == []
    assert client.get("/jobs", headers=AUTH).json()["total"] == 0
    assert store.list("uploads/") == []
    assert incoming_files(settings) == []


def test_upload_over_the_size_limit_is_refused_while_streaming(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], media: Path
) -> None:
    settings = apply_environment(monkeypatch, {**env, "HIGHLIGHTS_MAX_UPLOAD_BYTES": "200000"})
    launcher = RecordingLauncher()
    big = media.read_bytes() + os.urandom(300_000)
    with TestClient(create_app(settings, launcher=launcher)) as client:
        # A declared length over the limit is refused before a byte of the body is read...
        declared = client.post(
            "/jobs",
            headers={
                **AUTH,
                "Content-Type": "multipart/form-data; boundary=b",
                "Content-Length": str(10**9),
            },
            content=b"",
        )
        assert (
            declared.status_code == 413
            and "HIGHLIGHTS_MAX_UPLOAD_BYTES" in declared.json()["detail"]
        )

        # ...and a body without a length is cut off as soon as the file passes the limit.
        seen: list[int] = []

        def body():
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
            for start in range(0, len(big), 50_000):
                seen.append(start)
                yield big[start : start + 50_000]
            yield b"\r\n--b--\r\n"

        cut = client.post(
            "/jobs",
            headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"},
            content=body(),
        )
        assert cut.status_code == 413
        assert "200 KB" in cut.json()["detail"] or "195 KB" in cut.json()["detail"]
    assert launcher.started == []
    assert incoming_files(settings) == []


def test_json_submission_of_an_s3_object(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], s3_server, media: Path
) -> None:
    s3_env = s3_server.env(prefix="unused")
    settings = apply_environment(monkeypatch, {
        **env, "HIGHLIGHTS_S3_ENDPOINT_URL": s3_env["HIGHLIGHTS_S3_ENDPOINT_URL"],
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
    })  # fmt: skip
    key = f"incoming/{uuid.uuid4().hex}/week 1.mp4"
    s3_server.client().put_object(Bucket=s3_server.bucket, Key=key, Body=media.read_bytes())
    launcher = RecordingLauncher()
    with TestClient(create_app(settings, launcher=launcher)) as client:
        source = f"s3://{s3_server.bucket}/{key}"
        ok = client.post("/jobs", headers=AUTH, json={"source": source, "options": {"clips": 2}})
        assert ok.status_code == 202, ok.text
        job = job_row(settings, ok.json()["job_id"])
        assert job is not None and job.metadata_["source"] == source
        assert job.metadata_["options"] == {"clips": 2}
        assert job.file_size == media.stat().st_size and job.filename == "week 1.mp4"
        assert launcher.started == [(job.job_id, False)]

        refusals = [
            ({"source": f"s3://{s3_server.bucket}/missing.mp4"}, 422, "does not exist"),
            ({"source": "s3://no-such-bucket-here/a.mp4"}, 422, "check the bucket and key"),
            ({"source": "/etc/passwd"}, 422, "source: String should match pattern"),
            ({"source": source, "options": {"clips": 99}}, 422, "options.clips"),
            ({"source": source, "extra": 1}, 422, "extra: Extra inputs are not permitted"),
            ({}, 422, "source: Field required"),
        ]
        for payload, status, message in refusals:
            response = client.post("/jobs", headers=AUTH, json=payload)
            assert response.status_code == status, (payload, response.text)
            assert message in response.json()["detail"], (payload, response.json())
        broken = client.post(
            "/jobs", headers={**AUTH, "Content-Type": "application/json"}, content=b"{not json"
        )
        assert broken.status_code == 422 and "JSON" in broken.json()["detail"]
        huge = client.post(
            "/jobs", headers={**AUTH, "Content-Type": "application/json"}, content=b" " * 70_000
        )
        assert huge.status_code == 413
    assert len(launcher.started) == 1


# -- retry and delete ------------------------------------------------------------------


def test_retry_resumes_failed_jobs_and_refuses_the_others(
    client: TestClient, launcher: RecordingLauncher, settings: Settings, store: Storage
) -> None:
    for status in ("completed", "failed", "running", "queued"):
        seed_job(settings, store, f"job-retry-{status}", status=status, with_results=False)
    done = client.post("/jobs/job-retry-completed/retry", headers=AUTH)
    assert done.status_code == 409 and "already completed" in done.json()["detail"]
    for status in ("running", "queued"):
        busy = client.post(f"/jobs/job-retry-{status}/retry", headers=AUTH)
        assert busy.status_code == 409 and "force=true" in busy.json()["detail"]
    assert launcher.started == []

    failed = client.post("/jobs/job-retry-failed/retry", headers=AUTH)
    assert failed.status_code == 202 and failed.json()["job_id"] == "job-retry-failed"
    assert launcher.started == [("job-retry-failed", True)]
    row = job_row(settings, "job-retry-failed")
    assert row is not None and row.status == "queued" and row.error_message is None
    forced = client.post("/jobs/job-retry-running/retry", params={"force": "true"}, headers=AUTH)
    assert forced.status_code == 202
    assert launcher.started[-1] == ("job-retry-running", True)
    assert client.post("/jobs/job-nope/retry", headers=AUTH).status_code == 404


def test_delete_removes_rows_in_every_table_and_the_stored_files(
    client: TestClient, seeded, settings: Settings, store: Storage
) -> None:
    before = row_counts(settings, seeded.job_id)
    assert all(count >= 1 for count in before.values()), before
    other = seed_job(settings, store, "job-keep-000002", clip_video=b"keep")
    assert store.list(f"results/{seeded.job_id}/")
    response = client.delete(f"/jobs/{seeded.job_id}", headers=AUTH)
    assert response.status_code == 204 and response.content == b""
    assert set(row_counts(settings, seeded.job_id).values()) == {0}
    assert store.list(f"results/{seeded.job_id}/") == []
    assert store.list(f"uploads/{seeded.job_id}/") == []
    assert client.get(f"/jobs/{seeded.job_id}", headers=AUTH).status_code == 404
    assert client.delete(f"/jobs/{seeded.job_id}", headers=AUTH).status_code == 404
    # The other job is untouched.
    assert row_counts(settings, other.job_id)["clips"] == 2
    assert len(store.list(f"results/{other.job_id}/")) == 8

    seed_job(settings, store, "job-busy-000003", status="running", with_results=False)
    busy = client.delete("/jobs/job-busy-000003", headers=AUTH)
    assert busy.status_code == 409 and "running" in busy.json()["detail"]
    assert (
        client.delete("/jobs/job-busy-000003", params={"force": "true"}, headers=AUTH).status_code
        == 204
    )


# -- failures are JSON, never tracebacks -----------------------------------------------


def test_runner_outage_is_503_and_the_job_is_kept_as_failed(
    client: TestClient, launcher: RecordingLauncher, settings: Settings, media: Path
) -> None:
    launcher.error = LaunchError("cannot start a run on Prefect at http://127.0.0.1:1/api: refused")
    response = client.post(
        "/jobs", headers=AUTH, files={"file": ("talk.mp4", media.read_bytes(), "video/mp4")}
    )
    assert response.status_code == 503
    assert "saved as failed, retry it later" in response.json()["detail"]
    job_id = client.get("/jobs", headers=AUTH).json()["items"][0]["job_id"]
    row = job_row(settings, job_id)
    assert row is not None and row.status == "failed"
    assert row.error_message.startswith("could not start: cannot start a run on Prefect")


def test_unexpected_errors_are_a_json_500_without_traceback(
    settings: Settings, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    launcher = RecordingLauncher()
    launcher.error = ZeroDivisionError("division by zero deep inside")
    with TestClient(
        create_app(settings, launcher=launcher), raise_server_exceptions=False
    ) as client:
        response = client.post(
            "/jobs", headers=AUTH, files={"file": ("talk.mp4", media.read_bytes(), "video/mp4")}
        )
    assert response.status_code == 500
    detail = response.json()["detail"]
    assert detail.startswith("internal error (reference ") and "Traceback" not in response.text
    assert "ZeroDivisionError" not in response.text
    reference = detail.split("reference ")[1].split(")")[0]
    assert any(reference in record.getMessage() for record in caplog.records)


def test_info_reports_limits_and_defaults(client: TestClient, settings: Settings) -> None:
    info = client.get("/info", headers=AUTH).json()
    assert info["max_upload_bytes"] == settings.max_upload_bytes
    assert info["runner"] == "local" and info["storage"] == "local"
    assert info["defaults"] == {"clips": 5, "format": "original", "min_len": 30.0, "max_len": 90.0}


# -- the real runners ------------------------------------------------------------------


def _wait_until_finished(client: TestClient, runner: LocalLauncher, job_id: str) -> dict:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}", headers=AUTH).json()
        if job["status"] in ("completed", "failed") and not runner.is_active(job_id):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.mark.slow
def test_local_runner_runs_real_flows_one_at_a_time(settings: Settings, media: Path) -> None:
    """Three uploads to a one-job-at-a-time runner: a real 2-s recording (the whole
    pipeline runs), a cut-off MP4 (the flow rejects it at ingest, after the first job), and
    one deleted while it waits (it never runs)."""
    runner = LocalLauncher(settings, max_parallel=1)
    with TestClient(create_app(settings, launcher=runner)) as client:

        def submit(name: str, data: bytes) -> str:
            response = client.post("/jobs", headers=AUTH, files={"file": (name, data, "video/mp4")})
            assert response.status_code == 202, response.text
            return response.json()["job_id"]

        whole = submit("tone.mp4", media.read_bytes())
        cut = submit("cut.mp4", media.read_bytes()[:4000])
        withdrawn = submit("later.mp4", media.read_bytes())
        assert runner.is_active(cut) and runner.is_active(withdrawn)
        busy = client.delete(f"/jobs/{whole}", headers=AUTH)
        assert busy.status_code == 409 and "running in this server" in busy.json()["detail"]
        assert client.delete(f"/jobs/{withdrawn}", headers=AUTH).status_code == 204
        assert not runner.is_active(withdrawn)

        first = _wait_until_finished(client, runner, whole)
        assert first["status"] == "completed", first
        assert first["progress_percent"] == 100.0 and abs(first["video_duration"] - 2.0) < 0.2
        second = _wait_until_finished(client, runner, cut)
        assert second["status"] == "failed", second
        assert second["error_message"].startswith("uploading: cut.mp4"), second["error_message"]
        assert "truncated or corrupt" in second["error_message"]
        timeline = client.get(f"/jobs/{cut}/timeline", headers=AUTH).json()["items"]
        assert ("uploading", "failed") in [(t["stage"], t["status"]) for t in timeline]
        assert second["flow_run_id"] and second["flow_run_id"] != first["flow_run_id"]
        # One at a time: the second job's flow began only after the first had finished.
        assert timeline[0]["created_at"] >= first["completed_at"]
        assert client.get(f"/jobs/{withdrawn}", headers=AUTH).status_code == 404
        assert row_counts(settings, withdrawn)["processing_logs"] == 0


def test_local_runner_refuses_settings_the_flow_would_not_see(
    settings: Settings, tmp_path: Path
) -> None:
    import dataclasses

    elsewhere = dataclasses.replace(settings, storage_url=str(tmp_path / "other-store"))
    with pytest.raises(ApiConfigError, match="storage_url differs"):
        LocalLauncher(elsewhere).warm_up()


def _peak_rss(pid: int) -> int:
    """The kernel's high-water mark of the process's resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


def _multipart_stream(boundary: str, filename: str, head: bytes, size: int, digest):
    """A multipart body of `size` file bytes made on the fly (never in memory at once)."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="clips"\r\n\r\n2\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    digest.update(head)
    yield head
    sent = len(head)
    block = os.urandom(1024 * 1024)
    while sent < size:
        chunk = block[: min(len(block), size - sent)]
        # Vary the content so a stored file of repeated blocks could not pass the hash.
        chunk = sent.to_bytes(8, "little") + chunk[8:]
        digest.update(chunk)
        sent += len(chunk)
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.slow
def test_a_300_mb_upload_is_streamed_to_disk_not_held_in_memory(
    env: dict[str, str], tmp_path: Path, media: Path
) -> None:
    size = 300 * 1024 * 1024
    with live_server(env, tmp_path / "server") as server:
        process = psutil.Process(server.process.pid)
        baseline = process.memory_info().rss
        high_water_before = _peak_rss(server.process.pid)
        peak = baseline
        digest = hashlib.sha256()
        stream = _multipart_stream(
            "upload-boundary-1", "big lecture.mp4", media.read_bytes()[:65536], size, digest
        )

        def sampled():
            nonlocal peak
            for index, chunk in enumerate(stream):
                if index % 8 == 0:
                    peak = max(peak, process.memory_info().rss)
                yield chunk

        started = time.monotonic()
        response = httpx.post(
            f"{server.url}/jobs",
            content=sampled(),
            timeout=300,
            headers={**AUTH, "Content-Type": "multipart/form-data; boundary=upload-boundary-1"},
        )
        elapsed = time.monotonic() - started
        peak = max(peak, process.memory_info().rss, _peak_rss(server.process.pid))
        assert response.status_code == 202, (response.text, server.log())
        job_id = response.json()["job_id"]
        growth = peak - baseline
        print(
            f"\n300 MB upload: {elapsed:.1f} s ({size / elapsed / 1e6:.0f} MB/s), server RSS "
            f"{baseline / 1e6:.0f} MB -> peak {peak / 1e6:.0f} MB (+{growth / 1e6:.0f} MB; "
            f"kernel high-water mark before the upload {high_water_before / 1e6:.0f} MB)"
        )
        assert growth < 64 * 1024 * 1024, f"server RSS grew by {growth / 1e6:.0f} MB"
        stored = Path(env["HIGHLIGHTS_STORAGE_URL"]) / "uploads" / job_id / "big lecture.mp4"
        assert stored.stat().st_size == size
        file_digest = hashlib.sha256()
        with stored.open("rb") as handle:
            while block := handle.read(4 * 1024 * 1024):
                file_digest.update(block)
        assert file_digest.hexdigest() == digest.hexdigest()
        job = httpx.get(f"{server.url}/jobs/{job_id}", headers=AUTH).json()
        assert job["options"] == {"clips": 2}
        # The body starts with a whole 2-s MP4 (noise follows it): the real flow, run by the
        # server's local runner, ingests the stored upload from where the API put it.
        deadline = time.monotonic() + 180
        while job["status"] not in ("failed", "completed") and time.monotonic() < deadline:
            time.sleep(1)
            job = httpx.get(f"{server.url}/jobs/{job_id}", headers=AUTH).json()
        timeline = httpx.get(f"{server.url}/jobs/{job_id}/timeline", headers=AUTH).json()["items"]
        assert ("uploading", "completed") in [(t["stage"], t["status"]) for t in timeline], job
        assert job["file_size"] == size and abs(job["video_duration"] - 2.0) < 0.2, job
        assert job["status"] == "completed", job


@pytest.mark.slow
def test_prefect_runner_starts_runs_of_the_process_lecture_deployment(
    settings: Settings, media: Path
) -> None:
    """With a Prefect server configured, jobs become runs of `process-lecture/process-lecture`.

    A real Prefect server (Prefect's test harness: a server subprocess on a temp database);
    no worker is needed to check what the API asks of it.
    """
    from prefect import get_client
    from prefect.testing.utilities import prefect_test_harness

    from flows.lecture import process_lecture

    def read_run(run_id: str):
        async def read():
            async with get_client() as prefect:
                run = await prefect.read_flow_run(uuid.UUID(run_id))
                deployment = await prefect.read_deployment(run.deployment_id)
                return run, deployment

        import asyncio

        return asyncio.run(read())

    upload = {"file": ("talk.mp4", media.read_bytes(), "video/mp4")}
    with (
        prefect_test_harness(server_startup_timeout=120),
        TestClient(create_app(settings)) as client,  # auto: the Prefect runner
    ):
        assert client.get("/info", headers=AUTH).json()["runner"] == "prefect"
        missing = client.post("/jobs", headers=AUTH, files=upload)
        assert missing.status_code == 503, missing.text
        assert "process-lecture/process-lecture' does not exist" in missing.json()["detail"]

        process_lecture.to_deployment(name="process-lecture").apply()
        created = client.post("/jobs", headers=AUTH, files=upload)
        assert created.status_code == 202, created.text
        body = created.json()
        assert body["runner"] == "prefect" and body["flow_run_id"]
        run, deployment = read_run(body["flow_run_id"])
        assert deployment.name == "process-lecture"
        assert run.parameters == {"job_id": body["job_id"]}
        assert run.state is not None and run.state.is_scheduled()
        row = job_row(settings, body["job_id"])
        assert row is not None and row.celery_task_id == body["flow_run_id"]
        assert row.status == "queued"  # until a worker picks the run up

        with session_scope(get_engine(settings)) as session:
            session.get(Job, row.id).status = "failed"
        retried = client.post(f"/jobs/{body['job_id']}/retry", headers=AUTH)
        assert retried.status_code == 202, retried.text
        rerun, _ = read_run(retried.json()["flow_run_id"])
        assert rerun.parameters == {"job_id": body["job_id"], "resume": True}
        assert retried.json()["flow_run_id"] != body["flow_run_id"]


@pytest.mark.slow
def test_on_s3_storage_uploads_land_in_the_bucket_and_urls_are_presigned(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], s3_server, media: Path
) -> None:
    prefix = f"api-{uuid.uuid4().hex[:8]}"
    settings = apply_environment(monkeypatch, {**env, **s3_server.env(prefix)})
    store = open_storage(settings)
    assert store.backend == "s3"
    seeded = seed_job(settings, store, "job-s3-000001", clip_video=media.read_bytes())
    runner = LocalLauncher(settings)
    with TestClient(create_app(settings, launcher=runner)) as client:
        clip = client.get(f"/jobs/{seeded.job_id}/clips", headers=AUTH).json()["items"][0]
        # Media straight from the bucket (presigned); subtitles through the API (same origin,
        # which <track> needs without CORS on the bucket).
        assert clip["video_url"].startswith(
            f"{s3_server.endpoint_url}/{s3_server.bucket}/{prefix}/"
        )
        assert httpx.get(clip["video_url"]).content == media.read_bytes()
        assert clip["subtitles_vtt_url"].startswith("http://testserver/files/results/")
        assert client.get(clip["subtitles_vtt_url"]).text == VTT
        video_key = f"results/{seeded.job_id}/{seeded.clip_ids[0]}.mp4"
        served = client.get(f"/files/{video_key}", headers=AUTH, follow_redirects=False)
        assert served.status_code == 307
        assert httpx.get(served.headers["location"]).content == media.read_bytes()

        # An upload goes to the bucket, and the real flow ingests it from there (a cut-off
        # file, so it stops at ingest with the reason).
        truncated = media.read_bytes()[:4000]
        response = client.post(
            "/jobs", headers=AUTH, files={"file": ("week 1 (cut).mp4", truncated, "video/mp4")}
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        key = f"uploads/{job_id}/week 1 (cut).mp4"
        assert store.read_bytes(key) == truncated
        row = job_row(settings, job_id)
        assert row is not None and row.file_size == len(truncated)
        assert row.metadata_["source"] == (
            f"s3://{s3_server.bucket}/{prefix}/uploads/{job_id}/week 1 (cut).mp4"
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            job = client.get(f"/jobs/{job_id}", headers=AUTH).json()
            if job["status"] == "failed" and not runner.is_active(job_id):
                break
            time.sleep(0.5)
        assert job["status"] == "failed", job
        assert "week 1 (cut).mp4" in job["error_message"]
        assert "truncated or corrupt" in job["error_message"], job["error_message"]


@pytest.mark.slow
def test_serve_without_a_token_prints_one_and_cuts_oversized_uploads_off(
    env: dict[str, str], tmp_path: Path, media: Path
) -> None:
    """`highlights serve` with no HIGHLIGHTS_API_TOKEN: a generated token, printed with a
    login link; through the real server, an upload over the limit is answered with 413 as
    soon as it passes the limit, long before the client has sent it all."""
    env = {k: v for k, v in env.items() if k != "HIGHLIGHTS_API_TOKEN"}
    env["HIGHLIGHTS_MAX_UPLOAD_BYTES"] = str(8 * 1024 * 1024)
    with live_server({**env, "HIGHLIGHTS_API_TOKEN": ""}, tmp_path / "server") as server:
        lines = server.log().splitlines()
        token = next(line for line in lines if "Bearer " in line).split("Bearer ")[1].strip()
        assert f"{server.url}/?token={token}" in server.log()
        assert len(token) >= 40
        assert httpx.get(f"{server.url}/jobs").status_code == 401
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.url}/jobs", headers=headers).status_code == 200
        with httpx.Client(follow_redirects=True) as browser:
            page = browser.get(f"{server.url}/?token={token}")  # sets the cookie, redirects
            assert 'id="upload-form"' in page.text and str(page.url) == f"{server.url}/"

        sent = 0

        def body():
            nonlocal sent
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
            yield media.read_bytes()
            for _ in range(200):  # up to 200 MB
                sent += 1024 * 1024
                yield os.urandom(1024 * 1024)
            yield b"\r\n--b--\r\n"

        response = httpx.post(
            f"{server.url}/jobs",
            content=body(),
            timeout=60,
            headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert response.status_code == 413, response.text
        assert response.json()["detail"] == (
            "the upload is larger than the limit of 8 MB (HIGHLIGHTS_MAX_UPLOAD_BYTES)"
        )
        assert sent < 40 * 1024 * 1024, f"the client sent {sent / 1e6:.0f} MB before the answer"
        incoming = Path(env["HIGHLIGHTS_WORK_DIR"]) / "incoming"
        assert not incoming.exists() or list(incoming.iterdir()) == []
        assert httpx.get(f"{server.url}/jobs", headers=headers).json()["total"] == 0


@pytest.mark.slow
def test_stopping_the_server_mid_job_exits_promptly_and_marks_the_job_interrupted(
    env: dict[str, str], tmp_path: Path, settings: Settings
) -> None:
    lecture = Path(__file__).parent / "fixtures" / "lectures" / "screen.mp4"
    with live_server(env, tmp_path / "server") as server:
        response = httpx.post(
            f"{server.url}/jobs",
            headers=AUTH,
            timeout=60,
            files={"file": ("screen.mp4", lecture.read_bytes(), "video/mp4")},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = httpx.get(f"{server.url}/jobs/{job_id}", headers=AUTH).json()
            if job["status"] == "running" and job["current_stage"] not in (None, "uploading"):
                break
            time.sleep(0.3)
        assert job["status"] == "running", job
        stopped = time.monotonic()
        server.process.terminate()  # what Ctrl-C or `docker stop` does
        server.process.wait(timeout=60)
        took = time.monotonic() - stopped
    assert took < 20, f"the server took {took:.0f} s to stop"
    row = job_row(settings, job_id)
    assert row is not None and row.status == "failed", (row, server.log())
    assert row.error_message == "interrupted: the API server stopped; retry the job to resume it"
    assert row.progress_message == "Interrupted"
    # Nothing the server started outlives it (Prefect's temporary server, ffmpeg...).
    time.sleep(2)
    leftovers = [
        p
        for p in psutil.process_iter(["environ", "cmdline"])
        if (p.info["environ"] or {}).get("HIGHLIGHTS_DATABASE_URL")
        == env["HIGHLIGHTS_DATABASE_URL"]
    ]
    assert not leftovers, [" ".join(p.info["cmdline"] or []) for p in leftovers]


def _process_group(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None


@pytest.mark.slow
def test_a_job_process_that_dies_fails_its_job_with_the_reason(
    settings: Settings, media: Path
) -> None:
    """The kernel's OOM killer (here: SIGKILL from the test) must not leave a job `running`."""
    import signal

    runner = LocalLauncher(settings)
    with TestClient(create_app(settings, launcher=runner)) as client:
        response = client.post(
            "/jobs", headers=AUTH, files={"file": ("tone.mp4", media.read_bytes(), "video/mp4")}
        )
        job_id = response.json()["job_id"]
        deadline = time.monotonic() + 60
        child = None
        while child is None and time.monotonic() < deadline:
            child = next(
                (
                    p
                    for p in psutil.process_iter(["cmdline"])
                    if p.info["cmdline"]
                    and job_id in p.info["cmdline"]
                    and "api.job_process" in p.info["cmdline"]
                ),
                None,
            )
            time.sleep(0.1)
        assert child is not None, "no job process was started"
        while client.get(f"/jobs/{job_id}", headers=AUTH).json()["status"] != "running":
            time.sleep(0.2)  # the flow runs: Prefect's temporary server is up beside it
        group = [p for p in psutil.process_iter() if _process_group(p) == child.pid]
        assert len(group) >= 2, [p.cmdline() for p in group]
        child.send_signal(signal.SIGKILL)
        job = _wait_until_finished(client, runner, job_id)
        psutil.wait_procs(group, timeout=15)
        assert not [p for p in group if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert job["status"] == "failed"
        assert job["error_message"] == (
            "the job's process was killed by SIGKILL (out of memory?); retry the job"
        )
        retried = client.post(f"/jobs/{job_id}/retry", headers=AUTH)
        assert retried.status_code == 202
        assert _wait_until_finished(client, runner, job_id)["status"] == "completed"
