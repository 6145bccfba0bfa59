"""A local HTTP server that speaks the Gemini REST API's generateContent, for tests.

The real google-genai SDK is pointed at it (``http_options.base_url``), so the SDK's own
request building, retry and response parsing run as they would against Google. Each
test scripts the replies: a queue of canned replies, then (optionally) a function that
answers from the request itself.

Wire format (https://ai.google.dev/api/generate-content):
  POST /v1beta/models/{model}:generateContent   header x-goog-api-key
  200 {"candidates": [{"content": {"role": "model", "parts": [{"text": ...}]},
        "finishReason": "STOP", "index": 0}], "usageMetadata": {...}, "modelVersion": ...}
  4xx/5xx {"error": {"code": N, "message": ..., "status": "UNAVAILABLE"}}
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer

_PATH = re.compile(r"^/(?P<version>v1[a-z0-9]*)/models/(?P<model>[^/:]+):generateContent$")
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


@dataclass
class Reply:
    status: int
    body: dict[str, Any]


@dataclass
class RecordedRequest:
    path: str
    model: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def texts(self) -> list[str]:
        """The text of every part of every turn, in order."""
        return [
            part.get("text", "")
            for turn in self.body.get("contents", [])
            for part in turn.get("parts", [])
        ]

    @property
    def last_user_text(self) -> str:
        turns = [t for t in self.body.get("contents", []) if t.get("role", "user") == "user"]
        return "\n".join(p.get("text", "") for p in turns[-1].get("parts", [])) if turns else ""

    @property
    def roles(self) -> list[str]:
        return [t.get("role", "user") for t in self.body.get("contents", [])]


def text_reply(text: str, model: str = "gemini-2.5-flash") -> Reply:
    """A successful answer whose first candidate holds ``text``."""
    return Reply(
        200,
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 1000,
                "candidatesTokenCount": max(1, len(text) // 4),
                "totalTokenCount": 1000 + max(1, len(text) // 4),
            },
            "modelVersion": model,
            "responseId": "fake-response",
        },
    )


def json_reply(payload: Any, model: str = "gemini-2.5-flash") -> Reply:
    return text_reply(json.dumps(payload), model)


def error_reply(status: int, message: str = "") -> Reply:
    name = _STATUS_NAMES.get(status, "UNKNOWN")
    return Reply(
        status,
        {"error": {"code": status, "message": message or f"fake {name}", "status": name}},
    )


Responder = Callable[[RecordedRequest], Reply]


@dataclass
class FakeGemini:
    """Start with ``with FakeGemini() as fake:``; ``fake.base_url`` goes to the SDK."""

    api_key: str = "test-key"
    fallback: Responder | None = None  # answers once the queue is empty
    requests: list[RecordedRequest] = field(default_factory=list)
    _queue: deque[Reply | Responder] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *replies: Reply | Responder) -> None:
        with self._lock:
            self._queue.extend(replies)

    def _next(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            item = self._queue.popleft() if self._queue else None
        if item is None:
            if self.fallback is None:
                return error_reply(500, "fake server: no reply scripted for this request")
            item = self.fallback
        return item(request) if callable(item) else item

    def __enter__(self) -> FakeGemini:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                match = _PATH.match(self.path.split("?", 1)[0])
                if match is None:
                    self._send(error_reply(404, f"fake server: unknown path {self.path}"))
                    return
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(error_reply(400, "request body is not JSON"))
                    return
                request = RecordedRequest(
                    path=self.path,
                    model=match.group("model"),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                if request.headers.get("x-goog-api-key") != fake.api_key:
                    with fake._lock:
                        fake.requests.append(request)
                    self._send(error_reply(401, "API key not valid. Please pass a valid API key."))
                    return
                self._send(fake._next(request))

            def _send(self, reply: Reply) -> None:
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = LoopbackServer(Handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str:
        return self._server.origin
