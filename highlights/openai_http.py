"""Reading OpenAI SDK errors: the server's message, its error code, its requested wait.

Shared by the Whisper transcriber and the chat-completions analyzer, which talk to the
same family of servers and see the same error bodies.
"""

from __future__ import annotations

import math

import openai


def server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str) and inner:  # Ollama and llama.cpp: {"error": "..."}
            return inner
    text = (exc.response.text or "").strip() if exc.response is not None else ""
    return text[:200] or exc.message


def error_code(exc: openai.APIStatusError) -> str | None:
    """The machine-readable code in the error body, e.g. "insufficient_quota"."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("code"):
            return str(inner["code"])
    return getattr(exc, "code", None)


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
            continue  # an HTTP date: rare for these APIs; fall back to our own backoff
        if math.isfinite(value) and value >= 0:
            return value
    return None
