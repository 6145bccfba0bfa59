"""Content analysis by any server speaking OpenAI chat completions (the ``openai`` SDK).

Ollama, vLLM, the llama.cpp server, LM Studio and OpenAI itself all answer
``POST {base_url}/chat/completions``. The procedure (windows, checks, one re-ask, the
local fallback) is llm_analysis.py's, shared with Gemini; this module only carries a
conversation to the server and back.

Structured output differs between servers, so the request asks for the most the server
can do and steps down when it is refused:
  json_schema (the LectureAnswer schema)  ->  json_object  ->  plain text.
A server refusing a ``response_format`` answers 400 (or 422), each in its own words, so
any 400/422 to a request carrying a ``response_format`` steps down, and the step sticks
for the analyzer's lifetime. A bad request that is not about the format costs two extra
requests before it is reported, as permanent, with the server's own message. Whatever the
mode, the reply is read leniently (llm_json.answer_json: fences, prose, truncation) and
then held to the same check_answer as Gemini's.

Transport failures (timeouts, refused connections, 408/409/429/5xx) are retried here with
exponential back-off bounded in attempts and in total time; the SDK's own retries are off
because its back-off cannot be tuned or bounded in total. When the budget is spent the
analysis fails with AnalysisError(transient=True), never with a silent local fallback (an
outage is not a bad answer). A rejected key, an unknown model or a bad request fails at
once with transient=False and a message naming the server and the model.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import openai

from highlights.content.base import AnalysisError
from highlights.content.llm_analysis import ChatAnalyzer, ModelReply, Turn, fallback_provider
from highlights.content.llm_answer import LectureAnswer
from highlights.content.llm_json import answer_json
from highlights.content.llm_prompt import SYSTEM_INSTRUCTION, answer_shape
from highlights.content.local import LocalAnalyzer
from highlights.openai_http import error_code, retry_after_seconds, server_message
from highlights.settings import Settings, llm_settings_problem
from highlights.types import ContentAnalysis

log = logging.getLogger(__name__)

ResponseMode = Literal["json_schema", "json_object", "text"]
RESPONSE_MODES: tuple[ResponseMode, ...] = ("json_schema", "json_object", "text")
# The SDK refuses to start without a key; local servers ignore whatever is sent.
PLACEHOLDER_API_KEY = "no-key-needed"
FALLBACK_PROVIDER = fallback_provider("openai")
_FORMAT_REFUSALS = (openai.BadRequestError, openai.UnprocessableEntityError)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one request on transient failures.

    Waits base_delay * 2**n (capped at max_delay, with jitter) or the server's Retry-After;
    gives up after max_attempts tries, or when the next wait would take the time spent on
    this request (its tries included) past max_total_seconds.
    """

    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 30.0
    max_total_seconds: float = 600.0


class OpenAIChatAnalyzer(ChatAnalyzer):
    """Topic segments from an OpenAI-compatible chat server, validated like Gemini's."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        window_seconds: float = 15 * 60,
        overlap_seconds: float | None = None,
        retry: RetryPolicy | None = None,
        # A 15-minute window on an 8B model on a CPU takes minutes to answer.
        request_timeout: float = 600.0,
        temperature: float = 0.2,
        fallback: LocalAnalyzer | None = None,
    ) -> None:
        if not base_url or not model:
            raise AnalysisError(
                "the openai analyzer needs a server URL and a model: set "
                "HIGHLIGHTS_LLM_BASE_URL and HIGHLIGHTS_LLM_MODEL",
                transient=False,
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.window_seconds = window_seconds
        # A fifth of the window, within 1-5 minutes: enough context on both sides of a cut.
        self.overlap_seconds = (
            overlap_seconds
            if overlap_seconds is not None
            else min(300.0, max(60.0, window_seconds / 5))
        )
        self.retry = retry or RetryPolicy()
        self.temperature = temperature
        self.fallback = fallback or LocalAnalyzer()
        self._mode = 0  # index into RESPONSE_MODES; a refused mode is not asked for again
        self._client = openai.OpenAI(
            api_key=api_key or PLACEHOLDER_API_KEY,
            base_url=self.base_url,
            max_retries=0,  # RetryPolicy does it, bounded in count and total time
            timeout=openai.Timeout(request_timeout, connect=10.0),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIChatAnalyzer:
        problem = llm_settings_problem(settings)
        if problem:
            raise AnalysisError(problem, transient=False)
        return cls(
            base_url=settings.llm_base_url or "",
            model=settings.llm_model or "",
            api_key=settings.llm_api_key,
            window_seconds=settings.llm_window_seconds,
        )

    @property
    def response_mode(self) -> ResponseMode:
        """The structured-output mode requests use now (steps down when refused)."""
        return RESPONSE_MODES[self._mode]

    def _read_text(self, text: str | None) -> str | None:
        return answer_json(text)

    def _annotate(self, analysis: ContentAnalysis) -> ContentAnalysis:
        if self.response_mode != RESPONSE_MODES[0] and analysis.segments:
            analysis.notes.append(
                f"{self.base_url} refused structured output; requests used "
                f"response_format {self.response_mode!r}"
            )
        return analysis

    def _chat(self, turns: Sequence[Turn]) -> ModelReply:
        messages = [
            {"role": "system", "content": f"{SYSTEM_INSTRUCTION}\n\n{answer_shape()}"},
            *({"role": turn.role, "content": turn.text} for turn in turns),
        ]
        while True:
            mode = self.response_mode
            try:
                completion = self._create(messages, mode)
            except _FORMAT_REFUSALS as exc:
                # Only raised while a response_format is sent (see _create).
                log.warning(
                    "%s refused response_format %r (%s %s); trying %r",
                    self.base_url,
                    mode,
                    exc.status_code,
                    server_message(exc),
                    RESPONSE_MODES[self._mode + 1],
                )
                self._mode += 1
                continue
            return _reply(completion)

    def _create(self, messages: list[dict[str, str]], mode: ResponseMode) -> Any:
        """One completion, retried on transient failures within the RetryPolicy."""
        policy = self.retry
        started = time.monotonic()
        for attempt in range(1, policy.max_attempts + 1):
            try:
                return self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=self.temperature,
                    **_response_format(mode),
                )
            except _FORMAT_REFUSALS as exc:
                if mode != "text":
                    raise  # _chat steps down to a simpler response format
                raise self._error(exc) from exc
            except (openai.APIStatusError, openai.APIConnectionError) as exc:
                error = self._error(exc)
                if not error.transient:
                    raise error from exc
                delay = retry_after_seconds(exc)
                if delay is None:
                    delay = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
                    delay *= random.uniform(0.8, 1.0)
                elapsed = time.monotonic() - started
                if attempt == policy.max_attempts or elapsed + delay > policy.max_total_seconds:
                    raise AnalysisError(
                        f"{error.message} - gave up after {attempt} attempt(s) in "
                        f"{elapsed:.1f}s; try again later",
                        transient=True,
                    ) from exc
                log.warning("%s; retry %d in %.1fs", error.message, attempt, delay)
                time.sleep(delay)
            except openai.APIResponseValidationError as exc:
                raise AnalysisError(
                    f"{self._where()} sent a response that is not a chat completion: {exc}",
                    transient=True,
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _where(self) -> str:
        return f"the LLM server at {self.base_url} (model {self.model!r})"

    def _error(self, exc: openai.APIStatusError | openai.APIConnectionError) -> AnalysisError:
        """An actionable message; ``transient`` from the status code, never the text."""
        where = self._where()
        if isinstance(exc, openai.APITimeoutError):
            return AnalysisError(f"{where} did not answer in time", transient=True)
        if isinstance(exc, openai.APIConnectionError):
            return AnalysisError(
                f"could not reach {where}: {exc.__cause__ or exc}; is the server running?",
                transient=True,
            )
        status, detail = exc.status_code, server_message(exc)
        if status in (401, 403):
            return AnalysisError(
                f"{where} refused the API key ({status}): check HIGHLIGHTS_LLM_API_KEY - {detail}",
                transient=False,
            )
        if status == 404:
            return AnalysisError(
                f"{where}: model or endpoint not found (404): check HIGHLIGHTS_LLM_MODEL (for "
                "Ollama, pull the model first) and that HIGHLIGHTS_LLM_BASE_URL ends in the "
                f"API root such as /v1 - {detail}",
                transient=False,
            )
        if status == 429 and error_code(exc) == "insufficient_quota":
            return AnalysisError(
                f"{where}: quota exhausted (429 insufficient_quota) - {detail}", transient=False
            )
        if status in (408, 409, 429) or status >= 500:
            return AnalysisError(f"{where} is unavailable ({status}): {detail}", transient=True)
        return AnalysisError(f"{where} rejected the request ({status}): {detail}", transient=False)


def _response_format(mode: ResponseMode) -> dict[str, Any]:
    if mode == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "lecture_topics",
                    "schema": strict_schema(LectureAnswer.model_json_schema()),
                    "strict": True,
                },
            }
        }
    if mode == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {}


def strict_schema(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` on every object: OpenAI's strict
    mode requires it (and every property required, which LectureAnswer already has)."""
    if isinstance(schema, dict):
        out = {key: strict_schema(value) for key, value in schema.items()}
        if out.get("type") == "object":
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    return schema


def _reply(completion: Any) -> ModelReply:
    choices = getattr(completion, "choices", None) or []
    if not choices:
        return ModelReply(None, getattr(completion, "model", "") or "")
    choice = choices[0]
    message = choice.message
    return ModelReply(
        text=message.content if message is not None else None,
        model=getattr(completion, "model", "") or "",
        cut_off=choice.finish_reason == "length",
    )
