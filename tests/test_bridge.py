"""The S3-event bridge: envelopes, keys, filters, idempotency, and its three entry points.

Real parts throughout: a migrated SQLite database, moto's S3 and SQS server on loopback,
media files made by ffmpeg, Prefect's own client posting to a local HTTP server that
speaks the `/api/events` endpoint (and records what it got), the webhook over HTTP.
"""

from __future__ import annotations

import contextvars
import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from prefect.events import Event
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings
from sqlalchemy import func, select, update

import bridge.core
from bridge import lambda_handler
from bridge.config import BridgeConfig, BridgeConfigError, load_bridge_config
from bridge.core import Action, Bridge, handle_notification
from bridge.identity import event_id_for, job_id_for
from bridge.media import judge_content_type, judge_name, sniff_container
from bridge.records import NotificationError, ObjectEvent, parse_notification
from bridge.sinks import DeliveryError, EventSink
from bridge.sqs import poll_once, sqs_client
from bridge.webhook import make_server
from db.engine import dispose_engines, get_engine, session_scope
from db.models import Job
from highlights.ffmpeg import run_ffmpeg
from highlights.settings import load_settings
from highlights.storage import check_job_id
from tests.services import S3Server

LECTURE = Path(__file__).parent / "fixtures" / "lectures" / "screen.mp4"
TOKEN = "bridge-test-token"


# --- notifications in their envelopes -------------------------------------------------


def s3_event(
    bucket: str,
    raw_key: str,
    *,
    etag: str = "0123abcd",
    size: int = 1000,
    name: str = "ObjectCreated:Put",
    **object_extra: Any,
) -> dict[str, Any]:
    """An S3 event notification as AWS sends it (the key URL-encoded, `+` for spaces)."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-01-05T10:00:00.000Z", "eventName": name,
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "lectures",
               "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": raw_key, "size": size, "eTag": etag,
                          "sequencer": "0065A1B2C3D4E5F6", **object_extra}},
    }]}  # fmt: skip


def minio_event(
    bucket: str,
    key: str,
    *,
    etag: str = "0123abcd",
    size: int = 1000,
    content_type: str | None = None,
) -> dict[str, Any]:
    """MinIO's webhook body: the same Records, `s3:`-prefixed names, EventName/Key on top."""
    obj: dict[str, Any] = {
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag,
        "sequencer": "17A5B3C1D2E3F4A5",
    }
    if content_type:
        obj["contentType"] = content_type
    return {"EventName": "s3:ObjectCreated:Put", "Key": f"{bucket}/{key}", "Records": [{
        "eventVersion": "2.0", "eventSource": "minio:s3", "awsRegion": "",
        "eventTime": "2026-01-05T10:00:00.000Z", "eventName": "s3:ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket}, "object": obj},
    }]}  # fmt: skip


def sns_envelope(message: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "Notification", "MessageId": str(uuid.uuid4()),
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads",
            "Message": json.dumps(message), "Timestamp": "2026-01-05T10:00:01.000Z"}  # fmt: skip


RAW_KEY = "incoming/Week+1/Intro+%C3%A0+la+physique+%2B+maths.mp4"
DECODED_KEY = "incoming/Week 1/Intro à la physique + maths.mp4"


def test_direct_s3_event_decodes_plus_and_percent_escapes() -> None:
    [event] = parse_notification(s3_event("lectures", RAW_KEY, etag='"9f8e"', size=123))
    assert event.key == DECODED_KEY  # '+' is a space, '%2B' a real plus
    assert (event.bucket, event.etag, event.size) == ("lectures", "9f8e", 123)
    assert event.event_name == "ObjectCreated:Put" and event.is_object_created
    assert event.url == f"s3://lectures/{DECODED_KEY}"
    assert event.source == "s3"


def test_sqs_body_string_and_sns_wrapped_body_give_the_same_event() -> None:
    message = s3_event("lectures", RAW_KEY)
    from_sqs = parse_notification(json.dumps(message), source="sqs")
    from_sns = parse_notification(json.dumps(sns_envelope(message)), source="sqs")
    assert [e.key for e in from_sqs] == [e.key for e in from_sns] == [DECODED_KEY]
    assert from_sqs[0].source == "sqs" and from_sns[0].source == "sns"
    assert job_id_for(from_sqs[0]) == job_id_for(from_sns[0])


def test_lambda_batches_from_sqs_and_sns_are_unwrapped() -> None:
    message = s3_event("lectures", RAW_KEY)
    sqs_batch = {"Records": [{"messageId": "m1", "eventSource": "aws:sqs",
                              "body": json.dumps(sns_envelope(message))}]}  # fmt: skip
    sns_batch = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(message)}}]}
    assert [e.key for e in parse_notification(sqs_batch)] == [DECODED_KEY]
    assert [e.key for e in parse_notification(sns_batch)] == [DECODED_KEY]


def test_minio_webhook_body() -> None:
    [event] = parse_notification(minio_event("lectures", "incoming/my talk.mkv",
                                             content_type="video/x-matroska"))  # fmt: skip
    assert event.event_name == "ObjectCreated:Put"  # the "s3:" prefix is dropped
    assert event.key == "incoming/my talk.mkv"
    assert event.content_type == "video/x-matroska"
    assert event.source == "minio"


def test_messages_without_object_events() -> None:
    assert parse_notification({"Service": "Amazon S3", "Event": "s3:TestEvent",
                               "Bucket": "lectures"}) == []  # fmt: skip
    assert parse_notification({"Type": "SubscriptionConfirmation", "SubscribeURL": "x"}) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "empty"),
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON list"),
        ({"hello": "world"}, "expected a 'Records' list"),
        ({"Records": [{"s3": {"bucket": {"name": "b"}, "object": {}}}]}, "lacks"),
        ({"Records": [{"eventSource": "aws:dynamodb"}]}, "not an S3 event record"),
    ],
)
def test_bad_bodies_raise_a_clear_error(body: Any, message: str) -> None:
    with pytest.raises(NotificationError, match=message):
        parse_notification(body)


# --- media judgement ------------------------------------------------------------------


def test_names_decide_first() -> None:
    assert judge_name("incoming/LECTURE.MP4").is_media is True
    assert judge_name("incoming/audio-only.m4a").is_media is True
    assert judge_name("incoming/slides.pdf").is_media is False
    assert judge_name("incoming/recording").is_media is None
    assert judge_name("incoming/recording.bin").is_media is None
    assert judge_content_type("video/mp4; codecs=avc1").is_media is True
    assert judge_content_type("audio/mpeg").is_media is True
    assert judge_content_type("application/octet-stream").is_media is None
    assert judge_content_type("text/plain").is_media is False


@pytest.fixture(scope="module")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small real files of several containers, made by ffmpeg."""
    folder = tmp_path_factory.mktemp("media")
    video = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1"]
    audio = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
    specs = {
        "clip.mkv": [*video, "-c:v", "mpeg4"],
        "clip.webm": [*audio, "-c:a", "libopus"],
        "clip.ts": [*video, "-c:v", "mpeg2video"],
        "clip.avi": [*video, "-c:v", "mpeg4"],
        "clip.mp3": [*audio, "-c:a", "libmp3lame"],
        "clip.wav": [*audio, "-c:a", "pcm_s16le"],
        "clip.ogg": [*audio, "-c:a", "libvorbis"],
        "clip.flac": [*audio, "-c:a", "flac"],
    }
    files = {}
    for name, args in specs.items():
        run_ffmpeg([*args, str(folder / name)], timeout=60)
        files[name] = folder / name
    files["clip.mp4"] = LECTURE
    return files


@pytest.mark.parametrize(
    ("name", "container"),
    [("clip.mp4", "iso-bmff"), ("clip.mkv", "matroska"), ("clip.webm", "matroska"),
     ("clip.ts", "mpeg-ts"), ("clip.avi", "riff-avi"), ("clip.wav", "riff-wave"),
     ("clip.ogg", "ogg"), ("clip.flac", "flac"), ("clip.mp3", "mp3")],
)  # fmt: skip
def test_containers_are_recognised_by_their_first_bytes(
    media_files: dict[str, Path], name: str, container: str
) -> None:
    assert sniff_container(media_files[name].read_bytes()[:512]) == container


def test_text_and_documents_are_not_mistaken_for_media() -> None:
    assert sniff_container(b"Lecture notes\nWeek 1\n" * 20) is None
    assert sniff_container("notes".encode("utf-16")) is None  # starts FF FE
    assert sniff_container(b"%PDF-1.7\n" + b"0" * 500) is None
    assert sniff_container(b"G" + b"x" * 511) is None  # one 0x47 is not an MPEG-TS stream
    assert sniff_container(b"") is None


# --- ids ------------------------------------------------------------------------------


def _event(key: str = DECODED_KEY, etag: str | None = "abc", **kw: Any) -> ObjectEvent:
    values = {"event_name": "ObjectCreated:Put", "bucket": "lectures", "key": key, "etag": etag,
              "size": 10, "sequencer": "01", "event_time": None, "content_type": None,
              "source": "s3", **kw}  # fmt: skip
    return ObjectEvent(**values)


def test_ids_are_deterministic_per_bucket_key_and_etag() -> None:
    first, again = _event(), _event(source="sqs", sequencer="02")
    assert job_id_for(first) == job_id_for(again)
    assert event_id_for(first) == event_id_for(again)
    assert job_id_for(_event(etag="def")) != job_id_for(first)  # a new upload to the same key
    assert job_id_for(_event(key="incoming/other.mp4")) != job_id_for(first)
    assert job_id_for(_event(bucket="other")) != job_id_for(first)
    assert check_job_id(job_id_for(first))  # usable in storage keys
    # Without an ETag the sequencer identifies the upload.
    assert job_id_for(_event(etag=None, sequencer="01")) != job_id_for(
        _event(etag=None, sequencer="02")
    )


# --- configuration --------------------------------------------------------------------


def test_config_from_environment() -> None:
    config = load_bridge_config({"HIGHLIGHTS_UPLOAD_BUCKET": "lectures",
                                 "HIGHLIGHTS_UPLOAD_PREFIX": "/incoming/",
                                 "HIGHLIGHTS_BRIDGE_MODE": "Deployment",
                                 "HIGHLIGHTS_BRIDGE_SNIFF": "false"})  # fmt: skip
    assert (config.bucket, config.prefix, config.mode, config.sniff) == (
        "lectures", "incoming/", "deployment", False)  # fmt: skip
    assert config.deployment == "process-lecture/process-lecture"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HIGHLIGHTS_BRIDGE_MODE": "kafka"}, "HIGHLIGHTS_BRIDGE_MODE"),
        ({"HIGHLIGHTS_BRIDGE_DEPLOYMENT": "process-lecture"}, "FLOW_NAME/DEPLOYMENT_NAME"),
        ({"HIGHLIGHTS_UPLOAD_BUCKET": "s3://lectures/incoming"}, "bare bucket name"),
        ({"HIGHLIGHTS_BRIDGE_SNIFF": "maybe"}, "yes/no"),
    ],
)
def test_bad_config_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(BridgeConfigError, match=message):
        load_bridge_config(env)


# --- a local server speaking Prefect's /api/events ------------------------------------


class FakePrefect(ThreadingHTTPServer):
    """Accepts `POST /api/events` like a Prefect server and keeps what it got."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakePrefectHandler)
        self.events: list[dict[str, Any]] = []
        self.fail_next = 0  # answer this many event posts with 503

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api"


class _FakePrefectHandler(BaseHTTPRequestHandler):
    server: FakePrefect

    def _send(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        # The client asks for a CSRF token first; this is a server's answer without CSRF.
        if self.path.startswith("/api/csrf-token"):
            self._send(422, b'{"detail": "CSRF protection is disabled."}')
        else:
            self._send(404)

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/api/events":
            self._send(404)
        elif self.server.fail_next > 0:
            self.server.fail_next -= 1
            self._send(503, b'{"detail": "unavailable"}')
        else:
            self.server.events.extend(json.loads(body))
            self._send(204)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def prefect_api() -> Iterator[FakePrefect]:
    server = FakePrefect()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # A 503 must be a failure at once, not a retry loop.
    with temporary_settings({PREFECT_API_URL: server.api_url, PREFECT_CLIENT_MAX_RETRIES: 0}):
        yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(
    s3_env: dict[str, str], sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A migrated SQLite database and moto S3 (storage under a prefix unique to the test)."""
    database = tmp_path / "highlights.db"
    shutil.copyfile(sqlite_template, database)
    monkeypatch.setenv("HIGHLIGHTS_DATABASE_URL", f"sqlite:///{database}")
    yield {**s3_env, "HIGHLIGHTS_DATABASE_URL": f"sqlite:///{database}"}
    dispose_engines()


@pytest.fixture
def upload_prefix(env: dict[str, str]) -> str:
    return env["HIGHLIGHTS_STORAGE_URL"].rsplit("/", 1)[-1] + "-incoming/"


def make_bridge(s3_server: S3Server, prefix: str, **config: Any) -> Bridge:
    values = {"bucket": s3_server.bucket, "prefix": prefix, **config}
    return Bridge(config=BridgeConfig(**values), settings=load_settings(), sink=EventSink())


def put(s3_server: S3Server, key: str, data: bytes, content_type: str | None = None) -> str:
    extra = {"ContentType": content_type} if content_type else {}
    response = s3_server.client().put_object(Bucket=s3_server.bucket, Key=key, Body=data, **extra)
    return response["ETag"].strip('"')


# --- decisions ------------------------------------------------------------------------


def test_an_upload_becomes_one_prefect_event(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str
) -> None:
    bridge_ = make_bridge(s3_server, upload_prefix)
    key = f"{upload_prefix}Week 1/Intro à la physique.mp4"
    body = s3_event(s3_server.bucket, quote_plus(key, safe="/"), etag="e1", size=4096)

    [decision] = handle_notification(json.dumps(body), bridge=bridge_)
    assert decision.action is Action.TRIGGERED
    assert decision.key == key
    [sent] = prefect_api.events
    event = Event.model_validate(sent)  # what the real server parses
    assert event.event == "s3.object.created"
    assert event.resource.id == f"s3://{s3_server.bucket}/{key}"
    assert event.resource["s3.key"] == key
    assert event.payload == {
        "bucket": s3_server.bucket, "key": key, "etag": "e1", "size": 4096,
        "job_id": decision.job_id, "s3_event_time": "2026-01-05T10:00:00.000Z",
        "delivered_by": "s3"}  # fmt: skip
    assert str(event.id) == decision.reference
    [parsed] = parse_notification(body)
    assert event.id == event_id_for(parsed) and decision.job_id == job_id_for(parsed)

    # The bridge made the job (queued until its flow run starts), with the upload's source.
    settings = load_settings()
    with session_scope(get_engine(settings)) as session:
        job = session.scalars(select(Job).where(Job.job_id == decision.job_id)).one()
        assert job.status == "queued" and job.filename == "Intro à la physique.mp4"
        assert job.metadata_["source"] == f"s3://{s3_server.bucket}/{key}"
        assert job.metadata_["trigger"]["etag"] == "e1"

    # At-least-once delivery, before the run started: sent again with the same event id
    # (Prefect drops the repeat); twice in one message counts once.
    again = handle_notification(json.dumps({"Records": body["Records"] * 2}), bridge=bridge_)
    assert [d.action for d in again] == [Action.RESENT, Action.DUPLICATE]
    assert [e["id"] for e in prefect_api.events] == [decision.reference] * 2
    # Once the flow run has the job, a delivery changes nothing.
    start_run(decision.job_id)
    [late] = handle_notification(body, bridge=bridge_)
    assert late.action is Action.DUPLICATE and late.reason == "job already exists (running)"
    assert len(prefect_api.events) == 2
    assert job_count() == 1

    # A new upload to the same key (new ETag) is a new job.
    [replaced] = handle_notification(s3_event(s3_server.bucket, quote_plus(key, safe="/"),
                                              etag="e2"), bridge=bridge_)  # fmt: skip
    assert replaced.action is Action.TRIGGERED and replaced.job_id != decision.job_id
    assert len(prefect_api.events) == 3 and job_count() == 2


def start_run(job_id: str) -> None:
    """What the flow does first: the job is running and knows its flow run."""
    with session_scope(get_engine(load_settings())) as session:
        session.execute(update(Job).where(Job.job_id == job_id).values(
            status="running", celery_task_id=str(uuid.uuid4())))  # fmt: skip


def job_count() -> int:
    with session_scope(get_engine(load_settings())) as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


def test_a_restarted_bridge_finds_the_job_in_the_database(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str
) -> None:
    key = f"{upload_prefix}lecture.mov"
    body = s3_event(s3_server.bucket, key, etag="e1")
    [first] = handle_notification(body, bridge=make_bridge(s3_server, upload_prefix))
    assert first.action is Action.TRIGGERED
    start_run(first.job_id)

    fresh = make_bridge(s3_server, upload_prefix)  # another process: no shared memory
    [decision] = handle_notification(body, bridge=fresh)
    assert decision.action is Action.DUPLICATE and decision.job_id == first.job_id
    assert len(prefect_api.events) == 1


def test_concurrent_deliveries_make_one_job(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str
) -> None:
    body = json.dumps(s3_event(s3_server.bucket, f"{upload_prefix}busy.mp4", etag="e9"))
    bridges = [make_bridge(s3_server, upload_prefix) for _ in range(4)]
    start = threading.Barrier(len(bridges))
    results: list[Any] = []

    def deliver(b: Bridge) -> None:
        start.wait()
        results.extend(handle_notification(body, bridge=b))

    # Each thread runs in a copy of this context, which holds the Prefect settings.
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(deliver, b))
               for b in bridges]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    actions = sorted(str(d.action) for d in results)
    assert len(actions) == 4 and actions.count("triggered") == 1
    assert set(actions) <= {"triggered", "resent", "duplicate"}
    assert job_count() == 1
    [triggered] = [d for d in results if d.action is Action.TRIGGERED]
    assert {e["id"] for e in prefect_api.events} == {triggered.reference}


@pytest.mark.parametrize(
    ("make_key", "event_kwargs", "reason"),
    [
        (lambda p: f"{p}notes.txt", {}, "not audio or video: .txt"),
        (lambda p: f"{p}slides.PDF", {}, "not audio or video: .pdf"),
        (lambda p: f"elsewhere/{p}lecture.mp4", {}, "outside the upload prefix"),
        (lambda p: f"{p}lecture.mp4", {"name": "ObjectRemoved:Delete"}, "not an object creation"),
        (lambda p: f"{p}lecture.mp4", {"name": "s3:ObjectCreated:PutRetention"}, "metadata only"),
        (lambda p: f"{p}empty.mp4", {"size": 0}, "empty"),
        (lambda p: f"{p}folder/", {}, "folder marker"),
    ],
)
def test_uploads_that_make_no_job(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str,
    make_key: Any, event_kwargs: dict[str, Any], reason: str,
) -> None:  # fmt: skip
    bridge_ = make_bridge(s3_server, upload_prefix)
    body = s3_event(s3_server.bucket, quote_plus(make_key(upload_prefix), safe="/"), **event_kwargs)
    [decision] = handle_notification(body, bridge=bridge_)
    assert decision.action is Action.IGNORED
    assert reason in decision.reason
    assert prefect_api.events == []


def test_other_buckets_and_the_pipelines_own_files_are_ignored(
    prefect_api: FakePrefect, s3_server: S3Server, env: dict[str, str], upload_prefix: str
) -> None:
    storage_prefix = env["HIGHLIGHTS_STORAGE_URL"].rsplit("/", 1)[-1]
    # Uploads anywhere in the bucket, including under the storage prefix.
    bridge_ = make_bridge(s3_server, "")
    own = f"{storage_prefix}/results/job_1/clip_001.mp4"
    [decision] = handle_notification(s3_event(s3_server.bucket, own), bridge=bridge_)
    assert decision.action is Action.IGNORED and "own stored file" in decision.reason
    [stored_original] = handle_notification(
        s3_event(s3_server.bucket, f"{storage_prefix}/uploads/job_1/lecture.mp4"), bridge=bridge_
    )
    assert stored_original.action is Action.IGNORED
    [other] = handle_notification(s3_event("another-bucket", "lecture.mp4"), bridge=bridge_)
    assert other.action is Action.IGNORED and "not the upload bucket" in other.reason
    assert prefect_api.events == []


def test_names_without_extension_are_sniffed_from_the_object(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str
) -> None:
    bridge_ = make_bridge(s3_server, upload_prefix)
    video_key = f"{upload_prefix}recording-2026-01-05"
    text_key = f"{upload_prefix}README"
    video_etag = put(s3_server, video_key, LECTURE.read_bytes()[:65536], "binary/octet-stream")
    text_etag = put(s3_server, text_key, b"lecture notes, not a recording\n" * 40)
    decisions = handle_notification({"Records": [
        *s3_event(s3_server.bucket, video_key, etag=video_etag)["Records"],
        *s3_event(s3_server.bucket, text_key, etag=text_etag)["Records"],
        *s3_event(s3_server.bucket, f"{upload_prefix}deleted-since", etag="x")["Records"],
    ]}, bridge=bridge_)  # fmt: skip
    assert [d.action for d in decisions] == [Action.TRIGGERED, Action.IGNORED, Action.IGNORED]
    assert "iso-bmff signature" in decisions[0].reason
    assert "no audio/video signature" in decisions[1].reason
    assert "does not exist" in decisions[2].reason
    assert len(prefect_api.events) == 1

    # With sniffing off, a name that says nothing is not enough.
    quiet = make_bridge(s3_server, upload_prefix, sniff=False)
    [decision] = handle_notification(s3_event(s3_server.bucket, video_key, etag="other"),
                                     bridge=quiet)  # fmt: skip
    assert decision.action is Action.IGNORED and "SNIFF is off" in decision.reason


def test_minio_content_type_is_used_without_asking_the_store(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str
) -> None:
    bridge_ = make_bridge(s3_server, upload_prefix)
    # The object does not exist: a HEAD would say so; the event's content type is enough.
    body = minio_event(s3_server.bucket, f"{upload_prefix}camera feed", content_type="video/mp4")
    [decision] = handle_notification(body, bridge=bridge_)
    assert decision.action is Action.TRIGGERED and decision.reason.startswith(
        "content type video/mp4"
    )
    assert prefect_api.events[0]["payload"]["delivered_by"] == "minio"


def test_prefect_refusing_the_event_raises_and_a_redelivery_sends_it(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str
) -> None:
    bridge_ = make_bridge(s3_server, upload_prefix)
    body = s3_event(s3_server.bucket, f"{upload_prefix}lecture.mp4")
    prefect_api.fail_next = 1
    with pytest.raises(DeliveryError, match="did not accept the event"):
        handle_notification(body, bridge=bridge_)
    assert job_count() == 1  # the job waits, queued, for the event that starts it
    [decision] = handle_notification(body, bridge=bridge_)
    assert decision.action is Action.RESENT
    assert len(prefect_api.events) == 1 and job_count() == 1


def test_event_sink_needs_a_prefect_server() -> None:
    upload = bridge.core.Upload(bucket="b", key="k.mp4", etag="e", size=1, job_id="j",
                                event_id=uuid.uuid4(), event_time=None, source="s3")  # fmt: skip
    with (
        temporary_settings({PREFECT_API_URL: None}),
        pytest.raises(DeliveryError, match="PREFECT_API_URL is not set"),
    ):
        EventSink().submit(upload)


# --- entry points ---------------------------------------------------------------------


@pytest.fixture
def webhook(prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, make_bridge(s3_server, upload_prefix, token=TOKEN))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()


def test_webhook_speaks_http_to_minio(
    webhook: str, prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str
) -> None:
    key = f"{upload_prefix}my talk.mp4"
    body = json.dumps(minio_event(s3_server.bucket, key))
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    assert httpx.get(webhook).status_code == 200  # MinIO's reachability check

    response = httpx.post(f"{webhook}/minio", content=body, headers=auth, timeout=30)
    assert response.status_code == 200
    [decision] = response.json()["decisions"]
    assert decision["action"] == "triggered" and decision["key"] == key
    again = httpx.post(f"{webhook}/minio", content=body, headers=auth, timeout=30)
    assert again.json()["decisions"][0]["action"] == "resent"  # its run has not started
    assert len({e["id"] for e in prefect_api.events}) == 1

    assert httpx.post(f"{webhook}/minio", content=body, timeout=30).status_code == 401
    wrong = {**auth, "Authorization": "Bearer nope"}
    assert (
        httpx.post(f"{webhook}/minio", content=body, headers=wrong, timeout=30).status_code == 401
    )
    bad = httpx.post(f"{webhook}/minio", content=b"{oops", headers=auth, timeout=30)
    assert bad.status_code == 400 and "not JSON" in bad.json()["error"]

    prefect_api.fail_next = 1
    other = json.dumps(minio_event(s3_server.bucket, f"{upload_prefix}other.mp4"))
    down = httpx.post(f"{webhook}/minio", content=other, headers=auth, timeout=30)
    assert down.status_code == 503  # MinIO keeps the event and sends it again
    assert (
        httpx.post(f"{webhook}/minio", content=other, headers=auth, timeout=30).status_code == 200
    )


def test_sqs_poller_deletes_handled_messages_and_keeps_failed_ones(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str
) -> None:
    client = sqs_client(s3_server.endpoint_url, s3_server.region)
    queue_url = client.create_queue(QueueName=f"uploads-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    bridge_ = make_bridge(s3_server, upload_prefix)
    good = s3_event(s3_server.bucket, quote_plus(f"{upload_prefix}week 2.mp4", safe="/"))
    client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(sns_envelope(good)))
    client.send_message(QueueUrl=queue_url, MessageBody="this is not a notification")

    result = poll_once(client, queue_url, bridge_, wait_seconds=1)
    assert result.deleted == 2 and result.kept == 0  # the unreadable one can never succeed
    assert [d.key for d in result.decisions] == [f"{upload_prefix}week 2.mp4"]
    assert prefect_api.events[0]["payload"]["delivered_by"] == "sns"

    failing = s3_event(s3_server.bucket, f"{upload_prefix}week 3.mp4")
    client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(failing))
    prefect_api.fail_next = 1
    kept = poll_once(client, queue_url, bridge_, wait_seconds=1)
    assert (kept.deleted, kept.kept) == (0, 1)
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"  # back after the timeout


def test_lambda_handler_reports_only_failed_sqs_records(
    prefect_api: FakePrefect, s3_server: S3Server, upload_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(bridge.core, "_default", make_bridge(s3_server, upload_prefix))
    first = s3_event(s3_server.bucket, f"{upload_prefix}a.mp4")
    second = s3_event(s3_server.bucket, f"{upload_prefix}b.mp4")
    batch = {"Records": [
        {"messageId": "m-1", "eventSource": "aws:sqs", "body": json.dumps(first)},
        {"messageId": "m-2", "eventSource": "aws:sqs", "body": json.dumps(sns_envelope(second))},
        {"messageId": "m-3", "eventSource": "aws:sqs", "body": "garbage"},
    ]}  # fmt: skip
    prefect_api.fail_next = 1  # the first record's event is refused
    response = lambda_handler.handler(batch, None)
    assert response["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    assert [d["key"] for d in response["decisions"]] == [f"{upload_prefix}b.mp4"]

    # SQS delivers m-1 again: its job was made, the event is sent now.
    retry = lambda_handler.handler({"Records": batch["Records"][:1]}, None)
    assert retry["batchItemFailures"] == []
    assert [d["action"] for d in retry["decisions"]] == ["resent"]

    # S3 invoking the function directly: the event itself.
    third = s3_event(s3_server.bucket, f"{upload_prefix}c.mp4")
    direct = lambda_handler.handler(third, None)
    assert [d["action"] for d in direct["decisions"]] == ["triggered"]
    assert [e["payload"]["key"].rsplit("/", 1)[1] for e in prefect_api.events] == [
        "b.mp4", "a.mp4", "c.mp4"]  # fmt: skip
    assert job_count() == 3
