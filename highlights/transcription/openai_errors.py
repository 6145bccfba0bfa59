"""Sorting OpenAI SDK failures into transient and permanent TranscriptionErrors."""

from __future__ import annotations

import openai

from highlights.openai_http import error_code, server_message
from highlights.transcription.base import TranscriptionError

_PERMANENT_CLIENT_ERRORS = {400, 413, 415, 422}


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
    if status == 429 and error_code(exc) == "insufficient_quota":
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
