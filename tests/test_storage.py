"""The object store on both backends: a local folder and S3 (moto's server on loopback)."""

from __future__ import annotations

import os
import unicodedata
import urllib.request
from pathlib import Path

import httpx
import pytest

from highlights.settings import load_settings
from highlights.storage import (
    InvalidKeyError,
    LocalStorage,
    ObjectNotFoundError,
    S3Storage,
    Storage,
    StorageError,
    job_prefixes,
    open_storage,
    result_key,
    safe_filename,
    upload_key,
    work_key,
)
from tests.services import S3Server, free_port

MiB = 1024 * 1024


def fetch(url: str) -> bytes:
    if url.startswith("file://"):
        with urllib.request.urlopen(url) as response:  # noqa: S310 - a local file URL
            return response.read()
    return httpx.get(url, timeout=30).raise_for_status().content


def test_round_trip(storage: Storage, tmp_path: Path):
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"\x00\x01fake mp4 bytes" * 100)
    key = result_key("job_1", "clip_001.mp4")
    assert storage.put_file(source, key, content_type="video/mp4") == key
    storage.put_bytes(b"1\n00:00:00,000 --> 00:00:01,000\nhello\n", result_key("job_1", "a.srt"))

    assert storage.exists(key) and not storage.exists(result_key("job_1", "missing.mp4"))
    assert storage.size(key) == source.stat().st_size
    assert storage.read_bytes(key) == source.read_bytes()
    with storage.open(key) as stream:
        assert stream.read(2) == b"\x00\x01"
    copy = storage.get_file(key, tmp_path / "out" / "copy.mp4")
    assert copy.read_bytes() == source.read_bytes()
    assert fetch(storage.url(key, expires=60)) == source.read_bytes()
    assert storage.list("results/job_1/") == ["results/job_1/a.srt", "results/job_1/clip_001.mp4"]

    storage.put_bytes(b"x", key)  # replacing an object
    assert storage.read_bytes(key) == b"x"


def test_delete_prefix_removes_only_that_prefix(storage: Storage):
    for job in ("job_1", "job_10"):
        storage.put_bytes(b"u", upload_key(job, "lecture.mp4"))
        storage.put_bytes(b"r", result_key(job, "clips/clip_001.mp4"))
        storage.put_bytes(b"w", work_key(job, "audio.wav"))
    assert storage.delete_prefix("results/job_1/") == 1
    assert storage.delete_job("job_1") == 2
    assert storage.list() == [
        "results/job_10/clips/clip_001.mp4",
        "uploads/job_10/lecture.mp4",
        "work/job_10/audio.wav",
    ]
    assert storage.delete_prefix("results/job_1/") == 0
    with pytest.raises(InvalidKeyError, match="empty prefix"):
        storage.delete_prefix("")


def test_missing_objects(storage: Storage, tmp_path: Path):
    key = result_key("job_1", "nothing.mp4")
    for call in (
        lambda: storage.size(key),
        lambda: storage.read_bytes(key),
        lambda: storage.url(key),
        lambda: storage.get_file(key, tmp_path / "x.mp4"),
    ):
        with pytest.raises(ObjectNotFoundError, match="nothing.mp4"):
            call()
    assert not (tmp_path / "x.mp4").exists()
    storage.delete(key)  # deleting what is not there is fine


def test_large_file_goes_up_in_parts(storage: Storage, tmp_path: Path):
    # 5 MiB is S3's smallest part; 11 MiB with 5 MiB parts makes 3 parts.
    big = tmp_path / "lecture.mp4"
    big.write_bytes(os.urandom(11 * MiB))
    settings = load_settings()
    store = open_storage(settings, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    key = upload_key("job_big", big.name)
    store.put_file(big, key, content_type="video/mp4")
    assert store.size(key) == big.stat().st_size
    assert store.get_file(key, tmp_path / "back.mp4").read_bytes() == big.read_bytes()
    if isinstance(store, S3Storage):
        head = store.client.head_object(Bucket=store.bucket, Key=store._full(key))  # noqa: SLF001
        assert head["ETag"].strip('"').endswith("-3")  # S3 marks multipart objects "-<parts>"
        assert head["ContentType"] == "video/mp4"


HOSTILE = [
    ("../../etc/passwd", "passwd"),
    ("/abs/path", "path"),
    ("a\x00b", "ab"),
    ("C:\\Users\\prof\\Lecture 1.mp4", "Lecture 1.mp4"),
    ("..", "file"),
    (".", "file"),
    ("", "file"),
    ("   ", "file"),
    ("line\nbreak\t.mp4", "line break.mp4"),
    ("evil\u202egpj.exe", "evilgpj.exe"),  # right-to-left override would show "exe.jpg"
    ('what?<is>:"this"|*.mov', "what__is___this___.mov"),
    (".hidden.mp4", "hidden.mp4"),
]


@pytest.mark.parametrize(("name", "expected"), HOSTILE)
def test_safe_filename(name: str, expected: str):
    assert safe_filename(name) == expected


def test_long_names_are_cut_to_200_bytes_keeping_the_extension():
    name = safe_filename("é" * 400 + ".mp4")
    assert len(name.encode("utf-8")) <= 200 and name.endswith(".mp4")
    assert name.startswith("éé") and "\ufffd" not in name  # no half characters
    assert len(safe_filename("x" * 400).encode()) == 200


def test_unicode_names_stay_readable_and_nfc():
    decomposed = unicodedata.normalize("NFD", "ünïcödé 名前.mp4")
    assert decomposed != "ünïcödé 名前.mp4"
    assert safe_filename(decomposed) == unicodedata.normalize("NFC", "ünïcödé 名前.mp4")


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/abs/path", "a\x00b", "x" * 400 + ".mp4", "ünïcödé 名前.mp4", "..", ""],
)
def test_hostile_upload_names_stay_inside_the_job_folder(storage: Storage, name: str):
    key = upload_key("job_h", name)
    folder, _, filename = key.rpartition("/")
    assert folder == "uploads/job_h" and filename and "/" not in filename
    storage.put_bytes(b"data", key)
    assert storage.list("uploads/job_h/") == [key]
    assert storage.read_bytes(key) == b"data"
    if isinstance(storage, LocalStorage):
        stored = [p for p in storage.root.rglob("*") if p.is_file()]
        assert [p.relative_to(storage.root).as_posix() for p in stored] == [key]


@pytest.mark.parametrize(
    "key", ["../escape", "/abs", "a/../../b", "a\\b", "a/\x00b", "a//b", "uploads/", ""]
)
def test_raw_keys_that_could_escape_are_refused(storage: Storage, key: str):
    with pytest.raises(InvalidKeyError):
        storage.put_bytes(b"x", key)


@pytest.mark.parametrize("job_id", ["../x", "", "a/b", "..", "x" * 101, "job 1"])
def test_job_ids_are_checked(job_id: str):
    with pytest.raises(InvalidKeyError, match="job id"):
        upload_key(job_id, "a.mp4")


def test_key_builders_follow_the_seed():
    assert upload_key("job_abc123", "lecture.mp4") == "uploads/job_abc123/lecture.mp4"
    assert result_key("job_abc123", "clip_001.srt") == "results/job_abc123/clip_001.srt"
    assert work_key("job_abc123", "frames/0001.jpg") == "work/job_abc123/frames/0001.jpg"
    assert result_key("job_1", "../../x.mp4") == "results/job_1/x.mp4"
    assert job_prefixes("job_1") == ("uploads/job_1/", "results/job_1/", "work/job_1/")


def test_local_writes_are_atomic(tmp_path: Path):
    store = LocalStorage(tmp_path / "store")
    key = result_key("job_1", "clip.mp4")
    store.put_bytes(b"complete old version", key)

    class Interrupted(Exception):
        pass

    def half_write(handle) -> None:  # noqa: ANN001
        handle.write(b"partial")
        raise Interrupted

    with pytest.raises(Interrupted):
        store._write_atomically(key, half_write)  # noqa: SLF001 - simulates a crash mid-write
    assert store.read_bytes(key) == b"complete old version"
    assert [p.name for p in (tmp_path / "store" / "results" / "job_1").iterdir()] == ["clip.mp4"]


def test_local_url_is_a_file_url(tmp_path: Path):
    store = LocalStorage(tmp_path / "store dir")
    key = store.put_bytes(b"x", upload_key("job_1", "name with space#1.mp4"))
    url = store.url(key)
    assert url.startswith("file:///") and " " not in url
    assert fetch(url) == b"x"


def test_local_store_that_cannot_be_written_names_the_folder(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store should be")
    store = LocalStorage(blocker)
    with pytest.raises(StorageError, match="not-a-folder"):
        store.check()
    with pytest.raises(StorageError, match="local storage .*not-a-folder.*uploads/job_1/a.mp4"):
        store.put_bytes(b"x", upload_key("job_1", "a.mp4"))


def test_settings_choose_the_backend(s3_env: dict[str, str], tmp_path: Path, monkeypatch):  # noqa: ANN001
    store = open_storage(load_settings())
    assert isinstance(store, S3Storage)
    assert store.bucket == "highlights-test" and store.prefix.startswith("t-")
    store.check()
    monkeypatch.setenv("HIGHLIGHTS_STORAGE_URL", str(tmp_path / "files"))
    local = open_storage(load_settings())
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "files"
    monkeypatch.delenv("HIGHLIGHTS_STORAGE_URL")
    monkeypatch.chdir(tmp_path)
    assert open_storage(load_settings()).location == str(tmp_path / "highlights-data")


def test_s3_objects_live_under_the_configured_prefix(s3_env: dict[str, str], s3_server: S3Server):
    store = open_storage(load_settings())
    key = store.put_bytes(b"x", result_key("job_1", "a.srt"))
    prefix = s3_env["HIGHLIGHTS_STORAGE_URL"].split("/", 3)[3]
    listed = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=prefix)
    assert [o["Key"] for o in listed["Contents"]] == [f"{prefix}/{key}"]


def test_s3_missing_bucket_is_named(s3_env: dict[str, str], tmp_path: Path):
    store = S3Storage("no-such-bucket", "p", endpoint_url=s3_env["HIGHLIGHTS_S3_ENDPOINT_URL"])
    source = tmp_path / "a.mp4"
    source.write_bytes(b"x")
    for call in (
        lambda: store.put_file(source, "uploads/job_1/a.mp4"),
        lambda: store.put_bytes(b"x", "uploads/job_1/a.mp4"),
        lambda: store.list("uploads/"),
        store.check,
    ):
        with pytest.raises(StorageError) as error:
            call()
        message = str(error.value)
        assert "s3 storage" in message and "'no-such-bucket' does not exist" in message
        assert "\n" not in message


def test_s3_unreachable_endpoint_is_named(s3_env: dict[str, str], monkeypatch):  # noqa: ANN001
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("HIGHLIGHTS_S3_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = open_storage(load_settings())
    with pytest.raises(StorageError) as error:
        store.put_bytes(b"x", upload_key("job_1", "lecture.mp4"))
    message = str(error.value)
    assert endpoint in message and "cannot reach" in message
    assert "uploads/job_1/lecture.mp4" in message and "HIGHLIGHTS_S3_ENDPOINT_URL" in message


def test_s3_without_credentials_says_so(s3_env: dict[str, str], monkeypatch, tmp_path: Path):  # noqa: ANN001
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = open_storage(load_settings())
    with pytest.raises(StorageError, match="no AWS credentials"):
        store.put_bytes(b"x", upload_key("job_1", "a.mp4"))


LECTURES = Path(__file__).parent / "fixtures" / "lectures"


@pytest.mark.parametrize("name", sorted(p.name for p in LECTURES.glob("*.mp4"))[:1])
def test_a_generated_lecture_round_trips(storage: Storage, tmp_path: Path, name: str):
    source = LECTURES / name
    key = storage.put_file(source, upload_key("job_lecture", name), content_type="video/mp4")
    assert storage.size(key) == source.stat().st_size
    back = storage.get_file(key, tmp_path / "back" / name)
    assert back.read_bytes() == source.read_bytes()
    assert storage.delete_job("job_lecture") == 1 and storage.list() == []
