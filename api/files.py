"""URLs for stored files, and serving them from local storage with HTTP Range support.

On S3 the API hands out presigned URLs (the bucket serves the bytes). For a local store
it hands out `/files/{key}?expires=...&signature=...` URLs that this app serves: signed
like presigned URLs, so `<video>`, `<img>` and curl work without an auth header.

Subtitles are always served by the app, even on S3: a `<track>` element may only load
cross-origin text when the bucket sends CORS headers, and same-origin always works.
"""

from __future__ import annotations

import mimetypes
import time
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request

from api.auth import Auth
from api.errors import ApiError
from highlights.storage import InvalidKeyError, ObjectNotFoundError, Storage, check_key

URL_LIFETIME_SECONDS = 3600
# Expiry times are rounded up to this step, so the same file keeps the same URL for a
# while (browser caches hit) and a URL lives between LIFETIME and LIFETIME + STEP.
URL_EXPIRY_STEP_SECONDS = 600
# Only what users are meant to see: the original and the results, not work files.
SERVED_PREFIXES = ("results/", "uploads/")
TEXT_SUFFIXES = {
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


def media_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return TEXT_SUFFIXES[suffix]
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def is_text(key: str) -> bool:
    return Path(key).suffix.lower() in TEXT_SUFFIXES


def validate_served_key(key: str) -> str:
    """A key the app may serve: well-formed, inside the store, under a public prefix."""
    try:
        check_key(key)
    except InvalidKeyError:
        raise ApiError(404, "no such file") from None
    if not key.startswith(SERVED_PREFIXES):
        raise ApiError(404, "no such file")
    return key


def local_path(storage: Storage, key: str) -> Path:
    """The file behind a key in a local store; 404 if missing or outside the store."""
    root = Path(getattr(storage, "root"))  # noqa: B009 - only LocalStorage has a root
    path = (root / key).resolve()
    # check_key refuses `..`; resolving also defeats a symlink pointing out of the store.
    if not path.is_relative_to(root) or not path.is_file():
        raise ApiError(404, "no such file")
    return path


class FileUrls:
    """Builds the URL a client should use for a stored key (None if the object is missing)."""

    def __init__(self, storage: Storage, auth: Auth, lifetime: int = URL_LIFETIME_SECONDS):
        self.storage = storage
        self.auth = auth
        self.lifetime = lifetime

    def _served_url(self, request: Request, key: str) -> str:
        url = str(request.url_for("get_file", key=key))
        if self.auth.disabled:
            return url
        step = URL_EXPIRY_STEP_SECONDS
        expires = (int(time.time()) // step + 1) * step + self.lifetime
        query = urlencode({"expires": expires, "signature": self.auth.sign(key, expires)})
        return f"{url}?{query}"

    def url(self, request: Request, key: str | None) -> str | None:
        if not key:
            return None
        try:
            if self.storage.backend == "s3" and not is_text(key):
                return self.storage.url(key, expires=self.lifetime)
            if self.storage.backend == "local":
                local_path(self.storage, key)
            elif not self.storage.exists(key):
                return None
        except (ObjectNotFoundError, InvalidKeyError, ApiError):
            return None
        return self._served_url(request, key)
