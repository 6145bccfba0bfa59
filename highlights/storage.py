"""The object store for uploads, results and work files: a local folder or S3.

One small interface (`Storage`), two backends chosen by `Settings.storage_url`:
a folder path (the default) or `s3://bucket/prefix` (AWS, or MinIO and other
S3-compatible servers through HIGHLIGHTS_S3_ENDPOINT_URL). Keys are relative,
`/`-separated paths such as `uploads/job_1/lecture.mp4`; the key builders below are the
only place a user-supplied filename enters a key, and they make sure it cannot escape
its folder.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import unicodedata
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any

from highlights.errors import HighlightsError
from highlights.settings import Settings

DEFAULT_FILENAME = "file"
MAX_FILENAME_BYTES = 200
MAX_EXTENSION_BYTES = 16
DEFAULT_MULTIPART_THRESHOLD = 64 * 1024 * 1024
DEFAULT_MULTIPART_CHUNKSIZE = 16 * 1024 * 1024
DEFAULT_REGION = "us-east-1"
_TMP_MARKER = ".~tmp-"

# Reserved on Windows or meaningful in shells and URLs; replaced so a key is safe to
# download anywhere. Path separators are handled separately (they split the name).
_UNSAFE_CHARS = re.compile(r'[<>:"|?*]')
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class StorageError(HighlightsError, RuntimeError):
    """A storage operation failed; the message names the backend, the key and the cause.

    Transient unless the raiser knows better: a store that is down or slow comes back; a
    missing bucket, denied access or a full disk does not fix itself.
    """

    transient = True


class ObjectNotFoundError(StorageError, FileNotFoundError):
    """The key does not exist in the store."""


class InvalidKeyError(StorageError, ValueError):
    """A key or job id that could reach outside its folder, or is otherwise unusable."""

    transient = False


# --- keys -----------------------------------------------------------------------------


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def safe_filename(name: str | None, max_bytes: int = MAX_FILENAME_BYTES) -> str:
    """A readable filename that stays one path segment, whatever the user sent.

    Keeps only the last path component (so `../../etc/passwd` becomes `passwd`), drops
    control characters, normalises unicode to NFC, and truncates long names to
    `max_bytes` UTF-8 bytes while keeping the extension. Names with nothing usable left
    (empty, `.`, `..`) become `file`.
    """
    if not name:
        return DEFAULT_FILENAME
    name = unicodedata.normalize("NFC", str(name))
    name = re.sub(r"[\t\n\r]", " ", name)
    # Control, format (e.g. right-to-left override, which disguises extensions), private-use
    # and unassigned characters are dropped.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    # Keep the last meaningful path component: `../../etc/passwd` -> `passwd`, `..` -> ``.
    segments = [s for s in name.replace("\\", "/").split("/") if s.strip(" .")]
    name = segments[-1] if segments else ""
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name)
    # Leading dots would hide the file; trailing dots and spaces are dropped by Windows.
    name = name.strip(" .")
    if not name:
        return DEFAULT_FILENAME
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode("utf-8")) > MAX_EXTENSION_BYTES:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    stem = _truncate_utf8(stem, max_bytes - len(suffix.encode("utf-8"))).rstrip(" .")
    return f"{stem or DEFAULT_FILENAME}{suffix}"


def _relative_name(name: str) -> str:
    """A relative path of safe segments (for names our own code builds, e.g. `clips/a.mp4`)."""
    segments = [s for s in str(name).replace("\\", "/").split("/") if s.strip(" .")]
    if not segments:
        raise InvalidKeyError(f"storage name {name!r} has no usable path segment")
    return "/".join(safe_filename(s) for s in segments)


def check_job_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id) or ".." in job_id:
        raise InvalidKeyError(
            f"job id {job_id!r} is not usable in a storage key "
            "(use letters, digits, '_', '-', '.'; at most 100 characters)"
        )
    return job_id


def upload_key(job_id: str, filename: str | None) -> str:
    """`uploads/{job_id}/{filename}`: where the original recording is stored."""
    return f"uploads/{check_job_id(job_id)}/{safe_filename(filename)}"


def result_key(job_id: str, name: str) -> str:
    """`results/{job_id}/{name}`: clips, thumbnails, subtitles handed to users."""
    return f"results/{check_job_id(job_id)}/{_relative_name(name)}"


def work_key(job_id: str, name: str) -> str:
    """`work/{job_id}/{name}`: intermediate files stages pass to each other."""
    return f"work/{check_job_id(job_id)}/{_relative_name(name)}"


def job_prefixes(job_id: str) -> tuple[str, str, str]:
    """Every prefix that holds a job's objects (each ends in `/`, so `job_1` never matches `job_10`)."""
    job_id = check_job_id(job_id)
    return (f"uploads/{job_id}/", f"results/{job_id}/", f"work/{job_id}/")


def check_key(key: str) -> str:
    """Refuse keys that are absolute, climb with `..`, or hold backslashes or control chars."""
    if not isinstance(key, str) or not key:
        raise InvalidKeyError(f"storage key {key!r} is empty")
    if key.startswith("/") or "\\" in key or any(unicodedata.category(c)[0] == "C" for c in key):
        raise InvalidKeyError(
            f"storage key {key!r} must be a relative path without control characters"
        )
    segments = key.split("/")
    if any(s in ("", ".", "..") for s in segments[:-1]) or segments[-1] in (".", ".."):
        raise InvalidKeyError(f"storage key {key!r} has an empty, '.' or '..' segment")
    if not segments[-1] or any(s.startswith(_TMP_MARKER) for s in segments):
        raise InvalidKeyError(f"storage key {key!r} does not name a file")
    return key


def check_prefix(prefix: str) -> str:
    """A prefix for listing/deleting: a key, or a folder ending in `/` (empty = everything)."""
    if prefix == "":
        return prefix
    check_key(prefix.rstrip("/") or "/")
    return prefix


def _refuse_empty(prefix: str) -> None:
    if not prefix:
        raise InvalidKeyError(
            "refusing to delete with an empty prefix (it would remove every object)"
        )


# --- interface ------------------------------------------------------------------------


class Storage(ABC):
    """Put, get and list objects by key; both backends behave the same."""

    backend: str  # "local" or "s3", named in every error message

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the objects live: a folder, or s3://bucket/prefix."""

    @abstractmethod
    def put_file(self, local_path: str | Path, key: str, content_type: str | None = None) -> str:
        """Store a local file under `key` (replacing any object there); return the key."""

    @abstractmethod
    def put_bytes(self, data: bytes, key: str, content_type: str | None = None) -> str: ...

    @abstractmethod
    def get_file(self, key: str, local_path: str | Path) -> Path:
        """Copy the object to `local_path` (written whole or not at all); return the path."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """A readable binary stream of the object; close it after use."""

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def url(self, key: str, expires: int = 3600) -> str:
        """A URL to fetch the object: presigned (valid `expires` seconds) on S3, file:// locally."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove one object; a missing key is not an error."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with `prefix`; return how many."""

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with `prefix`, sorted."""

    @abstractmethod
    def check(self) -> None:
        """Raise StorageError unless the store is reachable and writable (a start-up check)."""

    def delete_job(self, job_id: str) -> int:
        """Remove every object of a job (upload, results, work files)."""
        return sum(self.delete_prefix(prefix) for prefix in job_prefixes(job_id))

    def _error(self, action: str, key: str, cause: object) -> StorageError:
        disk_full = isinstance(cause, OSError) and cause.errno == errno.ENOSPC
        return StorageError(
            f"{self.backend} storage {self.location}: {action} {key!r} failed: {cause}",
            transient=not disk_full,
        )


# --- local folder ---------------------------------------------------------------------


class LocalStorage(Storage):
    backend = "local"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()

    @property
    def location(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        # Defence in depth: check_key already refuses `..`, but a symlink could still point out.
        if not path.is_relative_to(self.root):
            raise InvalidKeyError(f"storage key {key!r} resolves outside {self.root}")
        return path

    def _write_atomically(self, key: str, write: Any) -> str:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TMP_MARKER, dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    write(handle)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise self._error("writing", key, exc) from exc
        return key

    def put_file(self, local_path: str | Path, key: str, content_type: str | None = None) -> str:
        source = Path(local_path)
        if not source.is_file():
            raise StorageError(
                f"local storage {self.root}: cannot store {key!r}: {source} is not a file"
            )

        def copy(handle: IO[bytes]) -> None:
            with source.open("rb") as reader:
                shutil.copyfileobj(reader, handle, 1024 * 1024)

        return self._write_atomically(key, copy)

    def put_bytes(self, data: bytes, key: str, content_type: str | None = None) -> str:
        return self._write_atomically(key, lambda handle: handle.write(data))

    def get_file(self, key: str, local_path: str | Path) -> Path:
        source = self._existing(key)
        target = Path(local_path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f"{_TMP_MARKER}{uuid.uuid4().hex}")
            try:
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise self._error(f"copying to {target}", key, exc) from exc
        return target

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFoundError(f"local storage {self.root}: no object {key!r}")
        return path

    def open(self, key: str) -> IO[bytes]:
        path = self._existing(key)
        try:
            return path.open("rb")
        except OSError as exc:
            raise self._error("reading", key, exc) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def url(self, key: str, expires: int = 3600) -> str:
        return self._existing(key).as_uri()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise self._error("deleting", key, exc) from exc
        self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty, up to the root, so deleted jobs leave no trace."""
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _walk(self, prefix: str) -> list[tuple[str, Path]]:
        check_prefix(prefix)
        # Same semantics as S3: a plain string prefix, so walk only the folder it names.
        base = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if not base.is_dir():
            return []
        found = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(_TMP_MARKER):
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append((key, path))
        return sorted(found)

    def list(self, prefix: str = "") -> list[str]:
        return [key for key, _ in self._walk(prefix)]

    def delete_prefix(self, prefix: str) -> int:
        _refuse_empty(prefix)
        found = self._walk(prefix)
        for key, path in found:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise self._error("deleting", key, exc) from exc
            self._prune(path.parent)
        return len(found)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(prefix=_TMP_MARKER, dir=self.root):
                pass
        except OSError as exc:
            raise StorageError(f"local storage {self.root} is not writable: {exc}") from exc


# --- S3 -------------------------------------------------------------------------------


def human_bytes(count: float) -> str:
    """A size as people say it: 512 B, 3 KB, 1.5 GB."""
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def is_s3_url(url: str) -> bool:
    return url.startswith("s3://")


def parse_s3_object_url(url: str) -> tuple[str, str]:
    """`s3://bucket/lectures/a.mp4` -> ("bucket", "lectures/a.mp4"): one object's URL.

    The key is taken literally ("%41" in a key is three characters), as S3 events and
    the AWS CLI write it.
    """
    bucket, _, key = url[len("s3://") :].partition("/") if is_s3_url(url) else ("", "", "")
    if not bucket or not key:
        raise StorageError(f"{url!r} is not an S3 object URL; use s3://BUCKET/KEY",
                           transient=False)
    return bucket, key


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix"): where a store keeps objects."""
    if not is_s3_url(url):
        raise StorageError(f"storage URL {url!r} is not an s3:// URL", transient=False)
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise StorageError(f"storage URL {url!r} needs a bucket: s3://BUCKET/PREFIX",
                           transient=False)
    return bucket, prefix.strip("/")


_shared_loader: Any = None


def _fresh_session() -> Any:
    """A boto3 session of its own, which reads the credentials in the environment now.

    boto3's default session keeps the credentials it found first, so a changed
    environment would be ignored. Sessions share one data loader: parsing botocore's
    service models again for every store costs far more than the client itself.
    """
    import boto3.session
    import botocore.session

    global _shared_loader
    core = botocore.session.get_session()
    if _shared_loader is None:
        _shared_loader = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _shared_loader)
    return boto3.session.Session(botocore_session=core)


class S3Storage(Storage):
    backend = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        multipart_chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE,
        client: Any = None,
    ) -> None:
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        config = Config(
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
            # MinIO and most S3-compatible servers only route path-style requests.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        self.client = client or _fresh_session().client(
            "s3", endpoint_url=endpoint_url, region_name=region or DEFAULT_REGION, config=config
        )
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=multipart_chunksize
        )

    @property
    def location(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where

    def _full(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, full_key: str) -> str:
        return full_key[len(self.prefix) + 1 :] if self.prefix else full_key

    def _error(self, action: str, key: str, cause: object) -> StorageError:
        explanation, transient = self._explain(cause)
        return StorageError(
            f"s3 storage {self.location}: {action} {key!r} failed: {explanation}",
            transient=transient,
        )

    def _explain(self, exc: object) -> tuple[str, bool]:
        """A cause a person can act on, from botocore's many exception shapes, and whether
        it may clear up by itself (an unreachable or overloaded server) or not (a missing
        bucket, refused credentials)."""
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        # boto3's transfer manager re-raises client errors as S3UploadFailedError text;
        # the original is still reachable through the exception chain.
        seen = 0
        while (
            isinstance(exc, BaseException)
            and not isinstance(exc, ClientError | EndpointConnectionError | NoCredentialsError)
            and (exc.__cause__ or exc.__context__) is not None
            and seen < 10
        ):
            exc, seen = exc.__cause__ or exc.__context__, seen + 1
        if isinstance(exc, EndpointConnectionError):
            return (
                f"cannot reach {exc.kwargs.get('endpoint_url', self.endpoint_url)} "
                "(check HIGHLIGHTS_S3_ENDPOINT_URL and that the server is running)"
            ), True
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return "no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", False
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = error.get("Message") or code
            if code == "NoSuchBucket":
                return f"bucket {self.bucket!r} does not exist (NoSuchBucket)", False
            if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return (f"access denied ({code}: {message}); check the AWS credentials and "
                        "bucket policy"), False
            return f"{code}: {message}", True
        text = str(exc)
        # upload_file wraps the ClientError as text only ("... An error occurred (NoSuchBucket) ...").
        # This is boto3's own text, read once where the error is made, not by the retry rule.
        if "NoSuchBucket" in text:
            return f"bucket {self.bucket!r} does not exist (NoSuchBucket)", False
        if "AccessDenied" in text or "InvalidAccessKeyId" in text:
            return f"access denied; check the AWS credentials and bucket policy ({text})", False
        return text or type(exc).__name__, True

    def _call(self, action: str, key: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(*args, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise ObjectNotFoundError(f"s3 storage {self.location}: no object {key!r}") from exc
            raise self._error(action, key, exc) from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise self._error(action, key, exc) from exc

    def put_file(self, local_path: str | Path, key: str, content_type: str | None = None) -> str:
        source = Path(local_path)
        if not source.is_file():
            raise StorageError(
                f"s3 storage {self.location}: cannot store {key!r}: {source} is not a file"
            )
        extra = {"ContentType": content_type} if content_type else None
        self._call(
            "uploading", key, self.client.upload_file, str(source), self.bucket, self._full(key),
            ExtraArgs=extra, Config=self.transfer,
        )  # fmt: skip
        return key

    def put_bytes(self, data: bytes, key: str, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        self._call(
            "uploading", key, self.client.put_object, Bucket=self.bucket, Key=self._full(key),
            Body=data, **extra,
        )  # fmt: skip
        return key

    def get_file(self, key: str, local_path: str | Path) -> Path:
        target = Path(local_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{_TMP_MARKER}{uuid.uuid4().hex}")
        try:
            self._call(
                "downloading", key, self.client.download_file, self.bucket, self._full(key),
                str(tmp), Config=self.transfer,
            )  # fmt: skip
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def open(self, key: str) -> IO[bytes]:
        response = self._call(
            "reading", key, self.client.get_object, Bucket=self.bucket, Key=self._full(key)
        )
        return response["Body"]

    def _head(self, key: str) -> dict[str, Any]:
        return self._call(
            "reading", key, self.client.head_object, Bucket=self.bucket, Key=self._full(key)
        )

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except ObjectNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def url(self, key: str, expires: int = 3600) -> str:
        self._head(key)  # a URL to a missing object would only fail later, in a browser
        return self._call(
            "signing", key, self.client.generate_presigned_url, "get_object",
            Params={"Bucket": self.bucket, "Key": self._full(key)}, ExpiresIn=int(expires),
        )  # fmt: skip

    def delete(self, key: str) -> None:
        self._call(
            "deleting", key, self.client.delete_object, Bucket=self.bucket, Key=self._full(key)
        )

    def _full_keys(self, prefix: str) -> list[str]:
        check_prefix(prefix)
        full_prefix = f"{self.prefix}/{prefix}" if self.prefix else prefix
        paginator = self.client.get_paginator("list_objects_v2")

        def collect() -> list[str]:
            return [
                item["Key"]
                for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix)
                for item in page.get("Contents", [])
            ]

        return sorted(self._call("listing", prefix, collect))

    def list(self, prefix: str = "") -> list[str]:
        return [self._relative(key) for key in self._full_keys(prefix)]

    def delete_prefix(self, prefix: str) -> int:
        _refuse_empty(prefix)
        keys = self._full_keys(prefix)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            response = self._call(
                "deleting", prefix, self.client.delete_objects, Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )  # fmt: skip
            if response.get("Errors"):
                first = response["Errors"][0]
                raise self._error(
                    "deleting",
                    first.get("Key", prefix),
                    f"{first.get('Code')}: {first.get('Message')}",
                )
        return len(keys)

    def check(self) -> None:
        try:
            self._call("checking bucket", "", self.client.head_bucket, Bucket=self.bucket)
        except ObjectNotFoundError:
            raise StorageError(
                f"s3 storage {self.location}: bucket {self.bucket!r} does not exist (NoSuchBucket)",
                transient=False,
            ) from None


# --- choosing a backend ---------------------------------------------------------------


def storage_from_url(url: str, endpoint_url: str | None = None, **s3_options: Any) -> Storage:
    if url.startswith("s3://"):
        bucket, prefix = parse_s3_url(url)
        return S3Storage(bucket, prefix, endpoint_url=endpoint_url, **s3_options)
    if url.startswith("file://"):
        url = url[len("file://") :]
    return LocalStorage(url)


def open_storage(settings: Settings, **s3_options: Any) -> Storage:
    """The store the settings name (HIGHLIGHTS_STORAGE_URL, HIGHLIGHTS_S3_ENDPOINT_URL)."""
    return storage_from_url(settings.storage_url, settings.s3_endpoint_url, **s3_options)
