"""Receive a lecture upload as a stream: never more than a few MB of it in memory.

The multipart body is parsed incrementally (python-multipart's streaming parser fed from
`request.stream()`), the file part goes straight to a temp file in the work folder, and
the limits are enforced as the bytes arrive:

- 413 as soon as the file passes HIGHLIGHTS_MAX_UPLOAD_BYTES (or at once, when the
  declared Content-Length already does);
- 415 as soon as the first 64 KB show the file is not audio or video.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from api.errors import ApiError
from highlights.probe import sniff_family
from highlights.storage import human_bytes, safe_filename

FILE_FIELD = "file"
SNIFF_BYTES = 64 * 1024
# Smaller than any real recording (a second of low-bitrate audio is larger): a file this
# small passing the signature check would only fail later, in the pipeline.
MIN_MEDIA_BYTES = 1024
WRITE_BATCH_BYTES = 1024 * 1024
MAX_FIELD_BYTES = 16 * 1024
MAX_FIELDS = 32
# Part headers, boundaries and the small option fields around the file.
MULTIPART_OVERHEAD_BYTES = MAX_FIELDS * (MAX_FIELD_BYTES + 512) + 64 * 1024
ACCEPTED_MEDIA = "MP4, MOV, MKV, WebM, AVI, MPEG-TS, M4A, MP3, WAV, FLAC, OGG or AAC"


def too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413,
        f"the upload is larger than the limit of {human_bytes(max_bytes)} "
        "(HIGHLIGHTS_MAX_UPLOAD_BYTES)",
    )


def detect_media_family(head: bytes) -> str | None:
    """The container family of a file from its first bytes, or None if it is not media.

    File signatures first (puremagic); libavformat's probe of the same bytes catches
    formats without a clear signature (MPEG-TS, raw AAC).
    """
    if not head:
        return None
    family = sniff_family(head, None)
    if family is not None:
        return family
    import av

    try:
        with av.open(io.BytesIO(head), mode="r") as container:
            return sniff_family(head, container.format.name)
    except (av.error.FFmpegError, ValueError, OSError):
        return None


@dataclass
class ReceivedUpload:
    path: Path  # the temp file; the caller moves or deletes it
    filename: str  # safe to use as one path segment
    size: int
    sha256: str
    family: str
    fields: dict[str, str]

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    filename: str | None = None
    is_file: bool = False
    value: bytearray = field(default_factory=bytearray)


class _StreamingForm:
    """Callback state for python-multipart: fields in memory (small), the file on disk."""

    def __init__(self, temp_path: Path, max_bytes: int) -> None:
        self.temp_path = temp_path
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self.handle: IO[bytes] | None = None
        self.file_seen = False
        self.file_done = False
        self.filename = ""
        self.size = 0
        self.digest = hashlib.sha256()
        self.head = bytearray()
        self.family: str | None = None
        self.pending: list[bytes] = []
        self.pending_bytes = 0

    # -- python-multipart callbacks (synchronous, called inside parser.write) ---------

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        self.part.headers[name] = self._header_value.decode("latin-1").strip()
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self.part.headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise ApiError(
                422, "every multipart part needs 'Content-Disposition: form-data; name=...'"
            )
        # Browsers send names and filenames as raw UTF-8 bytes.
        self.part.name = options[b"name"].decode("utf-8", errors="replace")
        if b"filename" in options:
            self.part.filename = options[b"filename"].decode("utf-8", errors="replace")
        if self.part.filename is not None or self.part.name == FILE_FIELD:
            if self.part.name != FILE_FIELD:
                raise ApiError(
                    422,
                    f"unexpected file field {self.part.name!r}: send the lecture "
                    f"in the field named '{FILE_FIELD}'",
                )
            if self.file_seen:
                raise ApiError(422, "send one lecture per request")
            self.file_seen = True
            self.part.is_file = True
            self.filename = safe_filename(self.part.filename)
            self.handle = self.temp_path.open("wb")
        elif len(self.fields) >= MAX_FIELDS:
            raise ApiError(422, f"too many form fields (at most {MAX_FIELDS})")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self.part.is_file:  # a small option field
            self.part.value += chunk
            if len(self.part.value) > MAX_FIELD_BYTES:
                raise ApiError(
                    413, f"form field {self.part.name!r} is longer than {MAX_FIELD_BYTES} bytes"
                )
            return
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        if self.family is None and len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
            if len(self.head) >= SNIFF_BYTES:
                self._check_media()
        self.pending.append(bytes(chunk))
        self.pending_bytes += len(chunk)

    def on_part_end(self) -> None:
        if self.part.is_file:
            self.file_done = True
            if self.family is None:
                self._check_media()
            return
        if self.part.name is not None:
            self.fields[self.part.name] = self.part.value.decode("utf-8", errors="replace")

    def _check_media(self) -> None:
        if self.size == 0:
            raise ApiError(422, "the uploaded file is empty (0 bytes); choose the recording again")
        if self.size < MIN_MEDIA_BYTES:
            raise ApiError(
                422,
                f"the uploaded file is only {self.size} bytes: too small to be a "
                "recording; choose the complete file",
            )
        self.family = detect_media_family(bytes(self.head))
        if self.family is None:
            raise ApiError(
                415,
                f"{self.filename} is not an audio or video file; upload a "
                f"recording ({ACCEPTED_MEDIA})",
            )

    # -- writing, outside the parser callbacks ----------------------------------------

    def _write(self, data: bytes) -> None:
        assert self.handle is not None
        self.handle.write(data)
        self.digest.update(data)

    async def flush(self, force: bool = False) -> None:
        if not self.pending or (not force and self.pending_bytes < WRITE_BATCH_BYTES):
            return
        data = b"".join(self.pending)
        self.pending.clear()
        self.pending_bytes = 0
        # Disk writes and hashing release the GIL: keep them off the event loop.
        await run_in_threadpool(self._write, data)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _closing(error: ApiError) -> ApiError:
    """Answer and close the connection: the server then stops receiving a body it refused
    (otherwise it would read and discard the rest of a many-GB upload to keep the
    connection alive)."""
    error.headers = {**(error.headers or {}), "Connection": "close"}
    return error


def _boundary(request: Request) -> bytes:
    _ctype, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(422, "the multipart/form-data body has no boundary parameter")
    return boundary


async def receive_upload(request: Request, incoming_dir: Path, max_bytes: int) -> ReceivedUpload:
    """Stream a multipart lecture upload to a temp file under `incoming_dir`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD_BYTES:
        raise _closing(too_large(max_bytes))
    boundary = _boundary(request)
    incoming_dir.mkdir(parents=True, exist_ok=True)
    temp_path = incoming_dir / f"{uuid.uuid4().hex}.part"
    form = _StreamingForm(temp_path, max_bytes)
    callbacks = {
        name: getattr(form, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    except (FormParserError, ValueError) as exc:
        raise ApiError(422, f"malformed multipart body: {exc}") from None
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                await form.flush()
            parser.finalize()
        except ApiError as exc:  # refused mid-body: do not read the rest of it
            raise _closing(exc) from None
        except FormParserError as exc:
            raise ApiError(422, f"malformed multipart body: {exc}") from None
        except ClientDisconnect:
            raise ApiError(400, "the client disconnected before the upload finished") from None
        if not form.file_seen:
            raise ApiError(
                422, f"no file: send the lecture in a multipart field named '{FILE_FIELD}'"
            )
        if not form.file_done:
            raise ApiError(422, "the multipart body ended before the file did; upload it again")
        await form.flush(force=True)
        form.close()
        assert form.family is not None
        return ReceivedUpload(
            path=temp_path,
            filename=form.filename,
            size=form.size,
            sha256=form.digest.hexdigest(),
            family=form.family,
            fields=form.fields,
        )
    except BaseException:
        form.close()
        with contextlib.suppress(OSError):
            temp_path.unlink(missing_ok=True)
        raise


async def read_small_body(request: Request, limit: int = 64 * 1024) -> bytes:
    """A JSON body, refused with 413 past `limit` bytes instead of being read whole."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"the JSON body is larger than {limit} bytes")
    return bytes(body)
