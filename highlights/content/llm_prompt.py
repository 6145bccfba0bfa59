"""The words sent to an LLM analyzer: a system instruction and one compact prompt per window.

Provider-neutral: Gemini and OpenAI-compatible servers get the same text, so a change to
the instructions reaches both.
"""

from __future__ import annotations

from collections.abc import Sequence

from highlights.content.llm_answer import TopicSegmentAnswer
from highlights.types import SilenceRegion, Slide, TranscriptSegment

SYSTEM_INSTRUCTION = """\
You segment university lecture transcripts into topics for a highlight-clip tool.
A topic is a stretch of the lecture about one subject a student would look up, usually
2-15 minutes long. Boundaries fall where the subject changes; slide changes and long
silences often mark them, but not every slide change starts a topic. When the slides'
text is given, a new slide title (or section label) usually starts a new topic, a
"(cont.)" slide does not, and the slide's title is usually the best topic title.

For each topic give:
- first_line, last_line: the indices of its first and last transcript line (inclusive);
- topic: a short specific title a student would recognise (e.g. "Hash Table Collisions"),
  never "Segment 3", "Part 2" or "Introduction" for a part that teaches something;
- description: one or two sentences on what the part teaches;
- importance: 0 to 1, how much the part matters for understanding the course: high for
  definitions, key ideas, results the lecturer stresses or says will be examined, and
  recaps of the main points; low for logistics, digressions and small talk;
- keywords: 3-8 terms said in the part; concepts: 1-4 broader concepts it belongs to.

Rules: topics are in order, do not overlap and leave no line out: the first topic starts
at the first line given, each next topic starts right after the previous one ends, and
the last topic ends at the last line given. Answer only with JSON matching the schema."""


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def window_prompt(
    segments: Sequence[TranscriptSegment],
    first_line: int,
    last_line: int,
    *,
    slide_changes: Sequence[float],
    silences: Sequence[SilenceRegion],
    duration: float,
    window_number: int,
    window_count: int,
    slides: Sequence[Slide] = (),
) -> str:
    """Transcript lines first_line..last_line as ``[index] start-end text``, with cues."""
    t0, t1 = segments[first_line].start, segments[last_line].end
    lines = [
        f"Lecture length: {duration:.1f} s ({_clock(duration)}).",
    ]
    if window_count > 1:
        lines.append(
            f"This is part {window_number} of {window_count} of the transcript "
            f"({_clock(t0)} to {_clock(t1)}); parts overlap by a few minutes. Segment only "
            "the lines given; a topic may continue before or after them."
        )
    changes = [f"{t:.1f}" for t in slide_changes if t0 - 1 <= t <= t1 + 1]
    lines.append("Slide changes (seconds): " + (", ".join(changes) if changes else "none"))
    shown = slides_shown(slides, t0, t1)
    if shown:
        lines.append("Slides shown (start-end seconds, section | title: body lines):")
        lines.extend(slide_line(s) for s in shown)
    quiet = [
        f"{r.start:.1f}-{r.end:.1f}"
        for r in silences
        if r.end >= t0 and r.start <= t1 and r.duration >= 1.0
    ]
    lines.append("Silences of 1 s or more (seconds): " + (", ".join(quiet) if quiet else "none"))
    lines.append("")
    lines.append("Transcript, one line per speech segment as [index] start-end text:")
    for i in range(first_line, last_line + 1):
        seg = segments[i]
        lines.append(f"[{i}] {seg.start:.1f}-{seg.end:.1f} {' '.join(seg.text.split())}")
    lines.append("")
    lines.append(
        f"Split lines {first_line} to {last_line} into topics. The first topic's first_line "
        f"is {first_line} and the last topic's last_line is {last_line}."
    )
    return "\n".join(lines)


def slides_shown(slides: Sequence[Slide], t0: float, t1: float) -> list[Slide]:
    return [s for s in slides if s.end >= t0 - 1 and s.start <= t1 + 1 and (s.title or s.lines)]


def slide_line(slide: Slide, max_chars: int = 300) -> str:
    """One slide as a prompt line: its span, section, title and body, kept short."""
    head = f"{slide.section} | " if slide.section else ""
    body = "; ".join(" ".join(ln.text.split()) for ln in slide.lines)
    text = f"{head}{slide.title}: {body}" if body else f"{head}{slide.title}"
    return f"- {slide.start:.1f}-{slide.end:.1f} {text[:max_chars]}"


def reask_prompt(error: str, first_line: int, last_line: int) -> str:
    return (
        f"Your answer could not be used: {error}. Answer again for lines {first_line} to "
        f"{last_line}: topics in order, no overlaps, no line left out, importance between 0 "
        "and 1, a real title for each topic, and only JSON matching the schema."
    )


_JSON_TYPES = {"integer": "integer", "number": "number", "string": "string", "boolean": "bool"}


def answer_shape() -> str:
    """The answer's JSON shape in words, for servers that cannot enforce a schema (and
    for small models, which follow an example better than a schema they never see:
    llama.cpp and Ollama enforce the schema as a grammar without showing it)."""
    fields = []
    for name, spec in TopicSegmentAnswer.model_json_schema()["properties"].items():
        kind = spec.get("type", "string")
        if kind == "array":
            item = spec.get("items", {}).get("type", "string")
            kind = f"[{_JSON_TYPES.get(item, item)}, ...]"
        else:
            kind = _JSON_TYPES.get(kind, kind)
        fields.append(f'"{name}": {kind}')
    return (
        "Answer with one JSON object of this shape and nothing else (no markdown fences, "
        'no text before or after it):\n{"segments": [{' + ", ".join(fields) + "}, ...]}"
    )
