"""The JSON shape every LLM analyzer must answer in, and the checks every answer must pass.

Shared by the Gemini and the OpenAI-compatible analyzers, so that both are held to the
same rules. The model picks topic boundaries as transcript line indices, not times: an
index can only land on a transcript border, and "line 41 to line 77" is easier for a
model to get right than "312.48 s". Times are then taken from the transcript itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, ValidationError

# Missing lines between two segments up to this many are given to the earlier segment
# instead of rejecting the whole answer (models skip a filler line now and then).
MAX_FILLED_LINES = 3
MAX_FILLED_SECONDS = 30.0
_GENERIC_TITLE = re.compile(
    r"^(?:segment|topic|part|section|chunk|window)\s*#?\s*\d+$", re.IGNORECASE
)


class TopicSegmentAnswer(BaseModel):
    first_line: int = Field(description="index of the first transcript line of this topic")
    last_line: int = Field(description="index of the last transcript line of this topic")
    topic: str = Field(description="short title a student would recognise, 2-6 words")
    description: str = Field(description="one or two sentences on what this part teaches")
    importance: float = Field(description="0 to 1: how much this part matters for the course")
    keywords: list[str] = Field(description="3-8 key terms said in this part")
    concepts: list[str] = Field(description="1-4 broader concepts this part belongs to")


class LectureAnswer(BaseModel):
    segments: list[TopicSegmentAnswer]


class InvalidAnswer(ValueError):
    """An answer that cannot be used as it is; the message is sent back to the model."""


@dataclass
class CheckedSegment:
    first_line: int
    last_line: int
    topic: str
    description: str
    importance: float
    keywords: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)


def _clean_list(items: list[str], limit: int) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        text = " ".join(str(item).split())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return out[:limit]


def check_answer(
    text: str | None, first_line: int, last_line: int, line_starts: list[float]
) -> list[CheckedSegment]:
    """Parse and check an answer for transcript lines first_line..last_line (inclusive).

    Raises InvalidAnswer with a message that says exactly what is wrong, so that the
    re-ask can quote it. Small gaps between segments are filled, larger ones rejected.
    """
    if not text or not text.strip():
        raise InvalidAnswer("the answer was empty; return the JSON object with a 'segments' list")
    try:
        answer = LectureAnswer.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise InvalidAnswer(f"the answer is not valid JSON ({first['msg']})") from None
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidAnswer(
            f"the answer does not match the schema: {where}: {first['msg']} "
            f"({exc.error_count()} problem(s) in total)"
        ) from None
    if not answer.segments:
        raise InvalidAnswer("the answer has no segments; every line must belong to one")

    segments: list[CheckedSegment] = []
    for k, seg in enumerate(answer.segments):
        label = f"segment {k} ({seg.topic!r})"
        if not first_line <= seg.first_line <= seg.last_line <= last_line:
            raise InvalidAnswer(
                f"{label} spans lines {seg.first_line}-{seg.last_line}, outside lines "
                f"{first_line}-{last_line} or ending before it starts"
            )
        if not 0.0 <= seg.importance <= 1.0:
            raise InvalidAnswer(f"{label} has importance {seg.importance}, outside 0-1")
        topic = " ".join(seg.topic.split())
        if not topic or _GENERIC_TITLE.match(topic):
            raise InvalidAnswer(f"{label} needs a real topic title, not {seg.topic!r}")
        if segments:
            prev = segments[-1]
            if seg.first_line <= prev.last_line:
                raise InvalidAnswer(
                    f"segments {k - 1} and {k} overlap: lines {prev.first_line}-{prev.last_line} "
                    f"and {seg.first_line}-{seg.last_line}; each line belongs to exactly one segment"
                )
        segments.append(
            CheckedSegment(
                first_line=seg.first_line,
                last_line=seg.last_line,
                topic=topic[:200],
                description=" ".join(seg.description.split())[:1000],
                importance=round(float(seg.importance), 4),
                keywords=_clean_list(seg.keywords, 10),
                concepts=_clean_list(seg.concepts, 6),
            )
        )
    _fill_gaps(segments, first_line, last_line, line_starts)
    return segments


def _fill_gaps(
    segments: list[CheckedSegment], first_line: int, last_line: int, line_starts: list[float]
) -> None:
    def small(a: int, b: int) -> bool:  # lines a..b-1 missing
        seconds = line_starts[min(b, len(line_starts) - 1)] - line_starts[a]
        return b - a <= MAX_FILLED_LINES or seconds <= MAX_FILLED_SECONDS

    if segments[0].first_line > first_line:
        if not small(first_line, segments[0].first_line):
            raise InvalidAnswer(
                f"lines {first_line}-{segments[0].first_line - 1} are in no segment; "
                f"the first segment must start at line {first_line}"
            )
        segments[0].first_line = first_line
    for prev, cur in zip(segments, segments[1:], strict=False):
        if cur.first_line > prev.last_line + 1:
            if not small(prev.last_line + 1, cur.first_line):
                raise InvalidAnswer(
                    f"lines {prev.last_line + 1}-{cur.first_line - 1} are in no segment; "
                    "segments must follow each other without gaps"
                )
            prev.last_line = cur.first_line - 1
    if segments[-1].last_line < last_line:
        if not small(segments[-1].last_line + 1, last_line + 1):
            raise InvalidAnswer(
                f"lines {segments[-1].last_line + 1}-{last_line} are in no segment; "
                f"the last segment must end at line {last_line}"
            )
        segments[-1].last_line = last_line
