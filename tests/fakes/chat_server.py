"""A local HTTP server that speaks OpenAI chat completions, for tests.

The real ``openai`` SDK is pointed at it (``base_url``), so the SDK's request building,
status handling and response parsing run as they would against Ollama, vLLM or OpenAI.
Each test scripts the replies: a queue of canned replies, then (optionally) a function
that answers from the request itself. The server can also play a server without
structured output: ``formats`` lists the response_format types it accepts, and any other
is refused with 400 the way such servers do.

Wire format (https://platform.openai.com/docs/api-reference/chat/create):
  POST /v1/chat/completions   header Authorization: Bearer KEY
  200 {"id", "object": "chat.completion", "created", "model",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": ...},
                    "finish_reason": "stop" | "length"}], "usage": {...}}
  4xx/5xx {"error": {"message", "type", "param", "code"}}
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer

PATH = "/v1/chat/completions"
ALL_FORMATS = frozenset({"json_schema", "json_object", "text"})


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def roles(self) -> list[str]:
        return [m.get("role", "") for m in self.messages]

    @property
    def system_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m.get("role") == "system")

    @property
    def prompt(self) -> str:
        """The first user message: the window's transcript and cues."""
        return next(m["content"] for m in self.messages if m.get("role") == "user")

    @property
    def last_user_text(self) -> str:
        users = [m["content"] for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else ""

    @property
    def response_format(self) -> str:
        return (self.body.get("response_format") or {}).get("type", "text")


def text_reply(text: str | None, *, finish_reason: str = "stop", model: str = "") -> Reply:
    """A successful completion whose only choice holds ``text``."""
    return Reply(
        200,
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,  # filled in with the requested model when empty
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
        },
    )


def json_reply(payload: Any, **kwargs: Any) -> Reply:
    return text_reply(json.dumps(payload), **kwargs)


def error_reply(
    status: int,
    message: str = "",
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return Reply(
        status,
        {
            "error": {
                "message": message or f"fake error {status}",
                "type": kind,
                "param": None,
                "code": code,
            }
        },
        headers=dict(headers or {}),
    )


Responder = Callable[[RecordedRequest], Reply]


@dataclass
class FakeChatServer:
    """Start with ``with FakeChatServer() as fake:``; ``fake.base_url`` goes to the SDK."""

    api_key: str | None = None  # None: any key (or none) is accepted, like Ollama
    formats: frozenset[str] = ALL_FORMATS  # response_format types the server accepts
    models: frozenset[str] | None = None  # None: any model name is served
    fallback: Responder | None = None  # answers once the queue is empty
    requests: list[RecordedRequest] = field(default_factory=list)
    _queue: deque[Reply | Responder] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *replies: Reply | Responder) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def formats_asked(self) -> list[str]:
        return [r.response_format for r in self.requests]

    def _answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
        if self.api_key is not None and request.headers.get("authorization") != (
            f"Bearer {self.api_key}"
        ):
            return error_reply(401, "Incorrect API key provided.", code="invalid_api_key")
        if self.models is not None and request.model not in self.models:
            return error_reply(404, f"model '{request.model}' not found", code="model_not_found")
        if request.response_format not in self.formats:
            # The refusal vLLM / older OpenAI models give, in spirit; wording varies.
            return error_reply(
                400,
                f"Invalid parameter: 'response_format' of type '{request.response_format}' "
                "is not supported with this model.",
            )
        with self._lock:
            item = self._queue.popleft() if self._queue else None
        if item is None:
            if self.fallback is None:
                return error_reply(500, "fake server: no reply scripted for this request")
            item = self.fallback
        reply = item(request) if callable(item) else item
        if reply.status == 200 and not reply.body.get("model"):
            reply.body["model"] = request.model
        return reply

    def __enter__(self) -> FakeChatServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.path.split("?", 1)[0] != PATH:
                    self._send(error_reply(404, f"fake server: unknown path {self.path}"))
                    return
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(error_reply(400, "request body is not JSON"))
                    return
                request = RecordedRequest(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                self._send(fake._answer(request))

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and hung up

        self._server = LoopbackServer(Handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str:
        return self._server.origin + "/v1"
