"""Where a new job's recording comes from: an upload moved into the store, or an S3 object.

The job's `source` is what the flow's ingest stage reads. An upload is put at its final
place in the store first (`uploads/{job_id}/{filename}`), and the source points there,
so ingest finds it already stored and does not copy it again, and a Prefect worker on
another machine can fetch it from S3.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from api.errors import ApiError
from api.schemas import JobOptions
from api.uploads import ReceivedUpload
from highlights.settings import Settings
from highlights.storage import (
    InvalidKeyError,
    ObjectNotFoundError,
    S3Storage,
    Storage,
    StorageError,
    human_bytes,
    parse_s3_object_url,
    upload_key,
)


def effective_options(options: JobOptions, settings: Settings) -> dict[str, Any]:
    """The client's options, refused when they clash with the server's defaults."""
    min_len = options.min_len if options.min_len is not None else settings.clip_min_seconds
    max_len = options.max_len if options.max_len is not None else settings.clip_max_seconds
    if max_len < min_len:
        raise ApiError(
            422,
            f"max_len {max_len:g} s is shorter than min_len {min_len:g} s (a length you did not "
            "give takes the server default, HIGHLIGHTS_CLIP_MIN_SECONDS / _MAX_SECONDS)",
        )
    return options.as_job_options()


def place_upload(storage: Storage, upload: ReceivedUpload, job_id: str) -> str:
    """Put the upload at its final key; return the job source that points at it."""
    key = upload_key(job_id, upload.filename)
    if storage.backend == "local":
        root = Path(getattr(storage, "root"))  # noqa: B009 - LocalStorage only
        target = root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(upload.path, target)  # same file system: a rename, not a copy
        except OSError:
            storage.put_file(upload.path, key)
        return str(target)
    storage.put_file(upload.path, key)
    bucket = getattr(storage, "bucket")  # noqa: B009 - S3Storage only
    prefix = getattr(storage, "prefix", "")
    full_key = f"{prefix}/{key}" if prefix else key
    # The flow takes the key of an s3:// source literally (no URL quoting).
    return f"s3://{bucket}/{full_key}"


def remove_placed(storage: Storage, job_id: str) -> None:
    with contextlib.suppress(StorageError):
        storage.delete_job(job_id)


def check_s3_source(settings: Settings, source: str) -> int:
    """The size of the S3 object a job would process; a clear 4xx if it cannot be read."""
    try:
        bucket, key = parse_s3_object_url(source)
    except StorageError as exc:
        raise ApiError(422, str(exc)) from None
    try:
        size = S3Storage(bucket, endpoint_url=settings.s3_endpoint_url).size(key)
    except InvalidKeyError as exc:
        raise ApiError(422, f"{source} is not a usable object key: {exc}") from None
    except ObjectNotFoundError:
        raise ApiError(422, f"{source} does not exist; check the bucket and key") from None
    except StorageError as exc:
        message = str(exc)
        if "cannot reach" in message:
            raise ApiError(503, f"cannot check {source}: {message}") from None
        raise ApiError(422, f"cannot read {source}: {message}") from None
    if size == 0:
        raise ApiError(422, f"{source} is empty (0 bytes)")
    if size > settings.max_upload_bytes:
        raise ApiError(
            413,
            f"{source} is {human_bytes(size)}, over the limit of "
            f"{human_bytes(settings.max_upload_bytes)} (HIGHLIGHTS_MAX_UPLOAD_BYTES)",
        )
    return size
