"""Sorting OpenAI SDK failures into transient and permanent TranscriptionErrors."""

from __future__ import annotations

import math

import openai

from highlights.transcription.base import TranscriptionError

_PERMANENT_CLIENT_ERRORS = {400, 413, 415, 422}


def server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    text = (exc.response.text or "").strip() if exc.response is not None else ""
    return text[:200] or exc.message


def _error_code(exc: openai.APIStatusError) -> str | None:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("code"):
            return str(inner["code"])
    return getattr(exc, "code", None)


def classify(exc: Exception, *, base_url: str, model: str) -> TranscriptionError:
    """One-line, actionable error; `transient` says whether a retry can help."""
    if isinstance(exc, openai.APITimeoutError):
        return TranscriptionError(
            f"OpenAI transcription request timed out (transient) at {base_url}", transient=True
        )
    if isinstance(exc, openai.APIConnectionError):
        return TranscriptionError(
            f"could not reach the OpenAI API at {base_url} (transient): {exc.__cause__ or exc}",
            transient=True,
        )
    if not isinstance(exc, openai.APIStatusError):
        return TranscriptionError(f"OpenAI transcription failed: {exc}", transient=False)
    status = exc.status_code
    detail = server_message(exc)
    if status == 401:
        return TranscriptionError(
            f"OpenAI rejected the API key (401 Unauthorized, permanent): check OPENAI_API_KEY - {detail}",
            transient=False,
        )
    if status == 403:
        return TranscriptionError(
            f"OpenAI refused access (403 Forbidden, permanent): the key may lack access to "
            f"model {model!r} - {detail}",
            transient=False,
        )
    if status == 404:
        return TranscriptionError(
            f"model {model!r} not found at {base_url} (404, permanent): check "
            f"HIGHLIGHTS_OPENAI_MODEL and OPENAI_BASE_URL - {detail}",
            transient=False,
        )
    if status == 429 and _error_code(exc) == "insufficient_quota":
        return TranscriptionError(
            f"OpenAI quota exhausted (429 insufficient_quota, permanent): check the account's billing - {detail}",
            transient=False,
        )
    if status == 429:
        return TranscriptionError(f"OpenAI rate limit (429, transient): {detail}", transient=True)
    if status in _PERMANENT_CLIENT_ERRORS:
        return TranscriptionError(
            f"OpenAI rejected the request ({status} bad request, permanent): {detail}",
            transient=False,
        )
    if status in (408, 409) or status >= 500:
        return TranscriptionError(
            f"OpenAI server error ({status}, transient): {detail}", transient=True
        )
    return TranscriptionError(
        f"OpenAI transcription failed ({status}, permanent): {detail}", transient=False
    )


def retry_after_seconds(exc: Exception) -> float | None:
    """The server's requested wait (Retry-After / retry-after-ms headers), if any."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw) / divisor
        except ValueError:
            continue  # an HTTP date: rare for this API; fall back to our own backoff
        if math.isfinite(value) and value >= 0:
            return value
    return None
