"""The provider-neutral half of an LLM analyzer: windows, checks, one re-ask, the fallback.

Every LLM analyzer (Gemini, OpenAI-compatible servers) runs the same procedure, so that
they differ only in how a conversation travels over the wire:

1. Long transcripts are cut into overlapping windows (windows.py); each window is one
   conversation with the timed transcript lines, slide changes, slides and silences
   (llm_prompt.py).
2. Every answer is checked (llm_answer.check_answer): parseable, on schema, lines inside
   the window, ordered, no overlaps, importance in 0-1, real titles; small gaps are filled
   so that the topics cover every line.
3. An unusable answer gets ONE re-ask in the same conversation, quoting the error. If the
   second answer is unusable too, the local analyzer produces the whole lecture's topics,
   ``provider`` says "local-texttiling (fallback from <provider>)" and ``notes`` says why.

Transport failures are the provider's business: its ``Chat`` raises AnalysisError with
``transient`` set, and that error ends the analysis (an outage is not a bad answer, so it
never triggers the local fallback).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from highlights.content.base import empty_analysis, spoken_segments
from highlights.content.llm_answer import CheckedSegment, InvalidAnswer, check_answer
from highlights.content.llm_prompt import reask_prompt, window_prompt
from highlights.content.local import LocalAnalyzer, group_spans, split_groups
from highlights.content.windows import Window, merge_windows, plan_windows
from highlights.types import ContentAnalysis, SilenceRegion, Slide, TopicSegment, Transcript

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """One message of a conversation; each provider maps the roles to its own names."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class ModelReply:
    text: str | None  # None when the model returned no text at all (e.g. a safety stop)
    model: str = ""  # the model version the server reports; "" when it reports none
    cut_off: bool = False  # the reply stopped at the server's token limit


class Chat(Protocol):
    """Sends the conversation so far, returns the model's next reply; raises AnalysisError."""

    def __call__(self, turns: Sequence[Turn]) -> ModelReply: ...


def fallback_provider(provider: str) -> str:
    return f"{LocalAnalyzer.name} (fallback from {provider})"


class ChatAnalyzer(ABC):
    """The procedure above, for one provider: a subclass says how to talk to its server
    (`_chat`), how to read a reply's text into the JSON that check_answer reads
    (`_read_text`, identity for providers that enforce JSON output), and what to add to
    a finished analysis (`_annotate`)."""

    name: str  # "gemini", "openai": goes into ContentAnalysis.provider and the notes
    model: str
    window_seconds: float
    overlap_seconds: float
    fallback: LocalAnalyzer

    @abstractmethod
    def _chat(self, turns: Sequence[Turn]) -> ModelReply: ...

    def _read_text(self, text: str | None) -> str | None:
        return text

    def _annotate(self, analysis: ContentAnalysis) -> ContentAnalysis:
        return analysis

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
                    transcript,
                    slide_changes=slide_changes,
                    silences=silences,
                    duration=duration,
                    slides=slides,
                )
                result.provider = fallback_provider(self.name)
                result.notes = [
                    f"{self.name} ({self.model}) answered lines {window.first_line}-"
                    f"{window.last_line} unusably twice ({outcome}); the local analyzer "
                    "produced these segments",
                    *notes,
                    *result.notes,
                ]
                return self._annotate(result)
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
            for seg, (start, end) in zip(merged, group_spans(groups), strict=True)
        ]
        notes.insert(
            0,
            f"{len(topics)} topic segments from {len(segments)} transcript segments "
            f"in {len(windows)} request window(s)",
        )
        return self._annotate(ContentAnalysis(
            segments=topics,
            provider=self.name,
            model=model_version or self.model,
            notes=notes,
        ))

    def _ask_window(
        self, prompt: str, window: Window, line_starts: Sequence[float]
    ) -> tuple[list[CheckedSegment], str, str] | str:
        """Checked segments, model version and the re-ask reason ("" if none) - or, when
        both answers are unusable, the last error message."""
        turns = [Turn("user", prompt)]
        first_error = ""
        for attempt in (1, 2):
            reply = self._chat(turns)
            try:
                checked = check_answer(
                    self._read_text(reply.text),
                    window.first_line,
                    window.last_line,
                    list(line_starts),
                )
                return checked, reply.model, first_error
            except InvalidAnswer as exc:
                error = str(exc)
                if reply.cut_off:  # says why, and that a shorter answer is needed
                    error += " (the answer was cut off at the server's output token limit)"
                log.warning(
                    "%s answer %d for lines %d-%d unusable: %s",
                    self.name,
                    attempt,
                    window.first_line,
                    window.last_line,
                    error,
                )
                if attempt == 2:
                    return error
                first_error = error
                turns += [
                    Turn("assistant", reply.text or ""),
                    Turn("user", reask_prompt(error, window.first_line, window.last_line)),
                ]
        raise AssertionError("unreachable")
