"""Content analysis by Google Gemini (google-genai SDK), structured JSON output.

Flow per lecture (the provider-neutral part lives in llm_analysis.py and is shared with
the OpenAI-compatible analyzer):
1. Long transcripts are cut into overlapping windows (windows.py); each window is one
   generateContent call with the timed transcript lines, slide changes and silences, and
   a response schema (llm_answer.LectureAnswer).
2. Every answer is checked (llm_answer.check_answer): parseable, on schema, lines
   inside the window, ordered, no overlaps, importance in 0-1, real titles; small gaps are
   filled so the topics cover every line.
3. An unusable answer gets ONE re-ask in the same conversation, quoting the error. If the
   second answer is unusable too, the local analyzer produces the whole lecture's topics,
   ``provider`` says "local-texttiling (fallback from gemini)" and ``notes`` says why.
4. Transport failures are retried by the SDK itself (HttpRetryOptions: 408, 429 and 5xx,
   exponential back-off, bounded attempts). When the budget is spent the analysis fails
   with AnalysisError(transient=True) - deliberately no silent fallback: an outage is
   not a bad answer, and a job should say "Gemini unavailable" and be retried later
   rather than quietly deliver the weaker local result under a Gemini configuration.
   Rejected keys, unknown models and bad requests fail at once with transient=False.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from highlights.content.base import AnalysisError
from highlights.content.llm_analysis import ChatAnalyzer, ModelReply, Turn, fallback_provider
from highlights.content.llm_answer import LectureAnswer
from highlights.content.llm_prompt import SYSTEM_INSTRUCTION
from highlights.content.local import LocalAnalyzer

# google-genai 3.x sends with httpx2 by default and with httpx when asked to; a network
# failure surfaces as either library's TransportError (timeouts and refused connections
# included) once the SDK's own retries are spent.
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError,)
try:
    import httpx2

    _TRANSPORT_ERRORS += (httpx2.TransportError,)
except ImportError:  # pragma: no cover - depends on the SDK's version
    pass

RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504]
FALLBACK_PROVIDER = fallback_provider("gemini")


class GeminiAnalyzer(ChatAnalyzer):
    """Topic segments from Gemini, with validation, one re-ask, and a local fallback."""

    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "gemini-2.5-flash",
        base_url: str | None = None,
        api_version: str = "v1beta",
        attempts: int = 5,
        initial_delay: float = 2.0,
        max_delay: float = 30.0,
        timeout_seconds: float = 180.0,
        window_seconds: float = 50 * 60,
        overlap_seconds: float = 5 * 60,
        temperature: float = 0.2,
        fallback: LocalAnalyzer | None = None,
    ) -> None:
        if not api_key:
            raise AnalysisError("Gemini analysis needs an API key: set GEMINI_API_KEY")
        self.model = model
        self.base_url = base_url
        self.attempts = max(1, attempts)
        self.window_seconds = window_seconds
        self.overlap_seconds = overlap_seconds
        self.temperature = temperature
        self.fallback = fallback or LocalAnalyzer()
        self._client = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                api_version=api_version,
                timeout=int(timeout_seconds * 1000),  # the SDK takes milliseconds
                retry_options=types.HttpRetryOptions(
                    attempts=self.attempts,
                    initial_delay=initial_delay,
                    max_delay=max_delay,
                    exp_base=2.0,
                    jitter=min(1.0, initial_delay),
                    http_status_codes=RETRY_STATUS_CODES,
                ),
            ),
        )

    def _chat(self, turns: Sequence[Turn]) -> ModelReply:
        contents = [
            types.Content(
                role="model" if turn.role == "assistant" else "user",
                parts=[types.Part(text=turn.text)],
            )
            for turn in turns
        ]
        response = self._generate(contents)
        return ModelReply(_response_text(response), response.model_version or "")

    def _generate(self, contents: list[types.Content]) -> types.GenerateContentResponse:
        config = types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION,
            response_mime_type="application/json",
            response_schema=LectureAnswer,
            temperature=self.temperature,
        )
        try:
            return self._client.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        except genai_errors.APIError as exc:
            raise self._api_error(exc) from exc
        except _TRANSPORT_ERRORS as exc:
            raise AnalysisError(
                f"Gemini API unreachable at {self.base_url or 'the default endpoint'} after "
                f"{self.attempts} attempt(s): {type(exc).__name__}: {exc}. Check the network "
                "or GOOGLE_GEMINI_BASE_URL, then retry",
                transient=True,
            ) from exc
        except genai_errors.UnknownApiResponseError as exc:
            raise AnalysisError(
                f"Gemini API sent an unreadable response: {exc}", transient=True
            ) from exc

    def _api_error(self, exc: genai_errors.APIError) -> AnalysisError:
        code = exc.code
        detail = f"{code} {exc.status or ''}".strip() + (f": {exc.message}" if exc.message else "")
        if code in RETRY_STATUS_CODES:
            return AnalysisError(
                f"Gemini API unavailable after {self.attempts} attempt(s) ({detail}); try again later",
                transient=True,
            )
        if code in (401, 403):
            return AnalysisError(f"Gemini refused the API key ({detail}); check GEMINI_API_KEY")
        if code == 404:
            return AnalysisError(
                f"Gemini model {self.model!r} not found ({detail}); check HIGHLIGHTS_GEMINI_MODEL"
            )
        return AnalysisError(f"Gemini rejected the request ({detail})", transient=False)


def _response_text(response: types.GenerateContentResponse) -> str | None:
    """The answer's text, or None when the model returned no text (e.g. a safety stop)."""
    try:
        return response.text
    except (ValueError, AttributeError):
        return None
