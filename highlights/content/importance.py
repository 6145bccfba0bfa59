"""How much a topic segment matters, 0-1, from signals any lecturer gives.

importance = 0.10
           + 0.45 * cues      what the lecturer says about it: definitions, "the key idea",
                              "this will be on the exam", "remember", summaries
           + 0.25 * centrality  density of the lecture's central terms (terms said in many
                              segments) - housekeeping and digressions score low
           + 0.10 * slides    slide changes per minute against the lecture's own rate
           + 0.10 * length    a segment too short to teach anything scores low

Each signal is 0-1, so the sum is 0-1. Cue phrases dominate because they are the
lecturer's own judgement; the other signals separate segments when nobody says so. With
no cue at all a segment reaches at most 0.55, so the cue-marked ones rank first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# (pattern, weight): weights reflect how strongly each phrase marks importance.
CUE_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(p, re.IGNORECASE), w)
    for p, w in (
        # Assessment hints.
        (r"\b(?:on|in|for) (?:the|your|an?) (?:exam|final|midterm|test|quiz)\b", 1.0),
        (r"\b(?:exam|midterm|final exam)s? (?:question|material)\b", 1.0),
        (r"\bexaminable\b|\bwill be (?:tested|assessed|examined)\b", 1.0),
        # Explicit emphasis.
        (
            r"\bthe (?:key|main|central|big|core) (?:idea|point|insight|concept|takeaway|result|message|lesson)\b",
            0.8,
        ),
        (r"\b(?:the )?most important\b|\bthe (?:really|very) important\b", 0.8),
        (r"\byou (?:must|need to|have to|should) (?:know|remember|understand)\b", 0.8),
        (r"\b(?:crucial|essential|fundamental)\b", 0.4),
        (r"\bimportant\b", 0.3),
        (r"\bremember\b|\bdon'?t forget\b|\bkeep in mind\b|\bmake sure you\b", 0.5),
        (r"\bpay (?:close )?attention\b|\bwrite (?:this|that|it) down\b", 0.5),
        (r"\bnote that\b", 0.3),
        # Definitions.
        (r"\b(?:is|are) defined as\b|\bby definition\b|\bthe definition\b|\bwe define\b", 0.6),
        (
            r"\bwe call (?:this|that|it|these|them)\b|\b(?:is|are) called\b|\b(?:is|are) known as\b",
            0.4,
        ),
        # Summaries and recaps.
        (r"\bto summari[sz]e\b|\bin summary\b|\bto recap\b|\bto sum up\b|\bin conclusion\b", 0.6),
        (r"\bthe (?:take-?away|bottom line)\b|\blet'?s recap\b|\bso to conclude\b", 0.5),
    )
)

# Cue weight at which the cue signal reaches ~0.63; two strong cues saturate it.
CUE_SCALE = 1.2
# Time over which cue phrases are counted as one "dose": a long segment must carry more
# cues than a short one to reach the same signal.
CUE_WINDOW_SECONDS = 180.0
SHORT_SEGMENT_SECONDS = 45.0


@dataclass(frozen=True)
class ImportanceSignals:
    cues: float
    centrality: float
    slides: float
    length: float

    @property
    def score(self) -> float:
        value = (
            0.10
            + 0.45 * self.cues
            + 0.25 * self.centrality
            + 0.10 * self.slides
            + 0.10 * self.length
        )
        return round(min(1.0, max(0.0, value)), 4)


def cue_weight(text: str) -> float:
    """Sum of the weights of the cue phrases in a text."""
    return sum(w * len(p.findall(text)) for p, w in CUE_PATTERNS)


def cue_signal(text: str, duration: float) -> float:
    doses = max(1.0, duration / CUE_WINDOW_SECONDS) ** 0.5
    return 1.0 - math.exp(-cue_weight(text) / (CUE_SCALE * doses))


def centrality_signals(segment_stems: Sequence[Sequence[str]], central: set[str]) -> list[float]:
    """Share of each segment's content words that are central terms, scaled to the maximum."""
    densities = [
        (sum(1 for s in stems if s in central) / len(stems)) if stems else 0.0
        for stems in segment_stems
    ]
    top = max(densities, default=0.0)
    return [d / top if top > 0 else 0.0 for d in densities]


def slide_signals(
    spans: Sequence[tuple[float, float]], slide_changes: Sequence[float]
) -> list[float]:
    """Slide changes per minute in each segment, against twice the lecture's mean rate.

    Neutral (0.5) everywhere when the recording has no slide changes at all (audio only,
    or a camera-only lecture), so the signal then favours no segment.
    """
    if not slide_changes or not spans:
        return [0.5] * len(spans)
    total = spans[-1][1] - spans[0][0]
    mean_rate = len(slide_changes) / max(total, 1e-6)
    out = []
    for start, end in spans:
        count = sum(1 for t in slide_changes if start <= t < end)
        rate = count / max(end - start, 1e-6)
        out.append(min(1.0, rate / (2 * mean_rate)))
    return out


def length_signal(duration: float) -> float:
    return min(1.0, max(0.0, duration / SHORT_SEGMENT_SECONDS))
