"""Content analysis by Google Gemini (google-genai SDK), structured JSON output.

Flow per lecture:
1. Long transcripts are cut into overlapping windows (windows.py); each window is one
   generateContent call with the timed transcript lines, slide changes and silences, and
   a response schema (gemini_answer.LectureAnswer).
2. Every answer is checked (gemini_answer.check_answer): parseable, on schema, lines
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

import logging
from collections.abc import Sequence

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from highlights.content.base import AnalysisError, empty_analysis, spoken_segments
from highlights.content.gemini_answer import (
    CheckedSegment,
    InvalidAnswer,
    LectureAnswer,
    check_answer,
)
from highlights.content.gemini_prompt import SYSTEM_INSTRUCTION, reask_prompt, window_prompt
from highlights.content.local import LocalAnalyzer, group_spans, split_groups
from highlights.content.windows import Window, merge_windows, plan_windows
from highlights.types import ContentAnalysis, SilenceRegion, Slide, TopicSegment, Transcript

log = logging.getLogger(__name__)

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
FALLBACK_PROVIDER = f"{LocalAnalyzer.name} (fallback from gemini)"


class GeminiAnalyzer:
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

    def analyze(
        self,
        transcript: Transcript,
        *,
        slide_changes: list[float],
        silences: list[SilenceRegion],
        duration: float,
        slides: Sequence[Slide] = (),
    ) -> ContentAnalysis:
        segments = spoken_segments(transcript, duration)
        if not segments:
            return empty_analysis(self.name, self.model)
        duration = duration if duration and duration > 0 else segments[-1].end
        line_starts = [s.start for s in segments]
        windows = plan_windows(line_starts, self.window_seconds, self.overlap_seconds)
        answers: list[list[CheckedSegment]] = []
        notes: list[str] = []
        model_version = ""
        for number, window in enumerate(windows, start=1):
            prompt = window_prompt(
                segments,
                window.first_line,
                window.last_line,
                slide_changes=slide_changes,
                silences=silences,
                duration=duration,
                window_number=number,
                window_count=len(windows),
                slides=slides,
            )
            outcome = self._ask_window(prompt, window, line_starts)
            if isinstance(outcome, str):  # unusable twice: the local analyzer takes over
                result = self.fallback.analyze(
                    transcript, slide_changes=slide_changes, silences=silences,
                    duration=duration, slides=slides,
                )
                result.provider = FALLBACK_PROVIDER
                result.notes = [
                    f"gemini ({self.model}) answered lines {window.first_line}-{window.last_line} "
                    f"unusably twice ({outcome}); the local analyzer produced these segments",
                    *notes,
                    *result.notes,
                ]
                return result
            checked, version, reasked = outcome
            model_version = model_version or version
            if reasked:
                notes.append(
                    f"window {number}: first answer unusable, re-asked once ({reasked}); "
                    "the second answer was used"
                )
            answers.append(checked)

        merged = merge_windows(windows, answers, line_starts)
        groups = split_groups(segments, [s.first_line for s in merged])
        spans = group_spans(groups)
        topics = [
            TopicSegment(
                start=round(start, 3),
                end=round(end, 3),
                topic=seg.topic,
                description=seg.description or None,
                importance_score=seg.importance,
                keywords=seg.keywords,
                concepts=seg.concepts,
            )
            for seg, (start, end) in zip(merged, spans, strict=True)
        ]
        notes.insert(
            0,
            f"{len(topics)} topic segments from {len(segments)} transcript segments "
            f"in {len(windows)} request window(s)",
        )
        return ContentAnalysis(
            segments=topics, provider=self.name, model=model_version or self.model, notes=notes
        )

    def _ask_window(
        self, prompt: str, window: Window, line_starts: Sequence[float]
    ) -> tuple[list[CheckedSegment], str, str] | str:
        """Checked segments, model version and the re-ask reason ("" if none) - or, when
        both answers are unusable, the last error message."""
        contents = [types.Content(role="user", parts=[types.Part(text=prompt)])]
        first_error = ""
        for attempt in (1, 2):
            response = self._generate(contents)
            text = _response_text(response)
            try:
                checked = check_answer(text, window.first_line, window.last_line, list(line_starts))
                return checked, response.model_version or "", first_error
            except InvalidAnswer as exc:
                log.warning(
                    "gemini answer %d for lines %d-%d unusable: %s",
                    attempt,
                    window.first_line,
                    window.last_line,
                    exc,
                )
                if attempt == 2:
                    return str(exc)
                first_error = str(exc)
                contents += [
                    types.Content(role="model", parts=[types.Part(text=text or "")]),
                    types.Content(
                        role="user",
                        parts=[
                            types.Part(
                                text=reask_prompt(first_error, window.first_line, window.last_line)
                            )
                        ],
                    ),
                ]
        raise AssertionError("unreachable")

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
