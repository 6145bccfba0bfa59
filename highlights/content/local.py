"""The offline content analyzer: TextTiling boundaries, keyphrase titles, cue-based importance.

Deterministic: the same transcript, slide changes and silences always give the same
segments, titles and scores. Needs no model, no network and no downloaded data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from highlights.content.base import empty_analysis, spoken_segments
from highlights.content.importance import (
    ImportanceSignals,
    centrality_signals,
    cue_signal,
    length_signal,
    slide_signals,
)
from highlights.content.keyphrases import (
    LectureVocabulary,
    join_list,
    make_title,
    pick_keyphrases,
    representative_sentence,
    title_case,
)
from highlights.content.slide_topics import (
    MIN_SPOKEN_SHARE,
    SlidePlan,
    plan_from_slides,
    respaced,
    slides_in_span,
    spoken_share,
    title_for_span,
)
from highlights.content.text import content_stems, sentences, words
from highlights.content.topic_boundaries import SegmentationParams, find_boundaries
from highlights.titles import clean_title, normalize
from highlights.types import (
    ContentAnalysis,
    SilenceRegion,
    Slide,
    TopicSegment,
    Transcript,
    TranscriptSegment,
)

_DEFINITION = re.compile(
    r"\b(?:is|are) defined as\b|\bwe call (?:this|that|it)\b|\b(?:is|are) called\b|\bmeans that\b"
    r"|\b(?:is|are) known as\b",
    re.IGNORECASE,
)
KEYWORDS_PER_SEGMENT = 6
CONCEPTS_PER_SEGMENT = 4


class LocalAnalyzer:
    """Topic segments from the transcript alone (plus slide changes and pauses as cues)."""

    name = "local-texttiling"
    model = "texttiling-keyphrase-v1"

    def __init__(self, params: SegmentationParams | None = None) -> None:
        self.params = params or SegmentationParams()

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
        notes: list[str] = []
        usable, slide_note = _usable_slides(slides, segments)
        plan = plan_from_slides(usable, segments, silences, self.params) if usable else None
        if usable and plan is None:
            slide_note = "slide text: too few titled slides to lead the topics: lexical titles"
        if slide_note:
            notes.append(slide_note)
        if plan is not None:
            first_units = plan.unit_indices
            notes.append(
                f"topics and titles from {len(plan.runs)} slide runs ({len(usable)} slides)"
            )
            notes.extend(plan.notes)
        else:
            first_units = find_boundaries(
                [content_stems(s.text) for s in segments],
                [s.start for s in segments],
                [s.end for s in segments],
                slide_changes=slide_changes,
                silences=silences,
                params=self.params,
            ).unit_indices
        groups = split_groups(segments, first_units)
        topics = describe_groups(groups, slide_changes, usable if plan else (), plan)
        notes.insert(0, f"{len(topics)} topic segments from {len(segments)} transcript segments")
        return ContentAnalysis(segments=topics, provider=self.name, model=self.model, notes=notes)


def _usable_slides(
    slides: Sequence[Slide], segments: Sequence[TranscriptSegment]
) -> tuple[list[Slide], str | None]:
    """The slides whose text can name topics, or none with the reason why."""
    if not slides:
        return [], None
    spoken = {w.lower() for seg in segments for w in words(seg.text)}
    mended = respaced(slides, spoken)
    if not any(s.title or s.section for s in mended):
        return [], "slide text: no slide titles (little text on the slides): lexical titles"
    share = spoken_share(mended, segments)
    if share < MIN_SPOKEN_SHARE:
        return [], (
            f"slide text: only {share:.0%} of the slides' words are spoken (slides in "
            "another language, or unreadable): lexical titles"
        )
    return mended, None


def split_groups(
    segments: Sequence[TranscriptSegment], first_indices: Sequence[int]
) -> list[list[TranscriptSegment]]:
    """Cut the transcript before each index in ``first_indices``."""
    cuts = [0, *sorted(i for i in set(first_indices) if 0 < i < len(segments)), len(segments)]
    return [list(segments[a:b]) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def group_spans(groups: Sequence[Sequence[TranscriptSegment]]) -> list[tuple[float, float]]:
    """Contiguous time spans: each topic runs until the next one's first words."""
    last_end = max(s.end for g in groups for s in g)
    spans = []
    for k, group in enumerate(groups):
        start = group[0].start
        end = groups[k + 1][0].start if k + 1 < len(groups) else max(last_end, start)
        spans.append((start, end))
    return spans


def describe_groups(
    groups: Sequence[Sequence[TranscriptSegment]],
    slide_changes: Sequence[float],
    slides: Sequence[Slide] = (),
    plan: SlidePlan | None = None,
) -> list[TopicSegment]:
    """Title, keywords, concepts, description and importance for each group of segments."""
    texts = [" ".join(s.text for s in g) for g in groups]
    spans = group_spans(groups)
    vocabulary = LectureVocabulary.build(texts)
    central = vocabulary.central_terms()
    central_stems = {c.key[0] for c in central}
    stems = [content_stems(t) for t in texts]
    centrality = centrality_signals(stems, central_stems)
    slide_rates = slide_signals(spans, slide_changes)

    topics: list[TopicSegment] = []
    used_titles: set[str] = set()
    for k, (text, (start, end)) in enumerate(zip(texts, spans, strict=True)):
        ranked = vocabulary.ranked(k)
        keyphrases = pick_keyphrases(ranked, k, KEYWORDS_PER_SEGMENT)
        keywords = [p.surface for p in keyphrases]
        shown = slides_in_span(slides, start, end)
        slide_title = title_for_span(plan.runs, start, end) if plan else ""
        title = _unique_title(
            slide_title or make_title(vocabulary, ranked, keyphrases, k) or _fallback_title(text),
            keywords,
            used_titles,
        )
        concepts = [c.surface for c in central if k in c.per_segment][:CONCEPTS_PER_SEGMENT]
        if shown:
            keywords = _slide_keywords(shown, keywords, text)
            concepts = _slide_concepts(shown, title, concepts)
        if not concepts:
            concepts = [kw for kw in keywords if " " not in kw][:2]
        signals = ImportanceSignals(
            cues=cue_signal(text, end - start),
            centrality=centrality[k],
            slides=slide_rates[k],
            length=length_signal(end - start),
        )
        topics.append(
            TopicSegment(
                start=round(start, 3),
                end=round(end, 3),
                topic=title,
                description=_description(text, keyphrases, vocabulary, k),
                importance_score=signals.score,
                keywords=keywords,
                concepts=concepts,
            )
        )
    return topics


def _description(text: str, keyphrases: Sequence, vocabulary: LectureVocabulary, k: int) -> str:
    weights: dict[str, float] = {}
    for score, stats in vocabulary.ranked(k)[:20]:
        for s in stats.key:
            weights[s] = max(weights.get(s, 0.0), score)
    parts = []
    if keyphrases:
        parts.append(f"Covers {join_list([p.surface for p in keyphrases[:3]])}.")
    sentence = representative_sentence(sentences(text), weights, prefer=_DEFINITION)
    if sentence:
        parts.append(sentence)
    return " ".join(parts) or _fallback_title(text)


def _fallback_title(text: str) -> str:
    """For speech with no content words at all ("okay, um, right")."""
    return title_case(" ".join(words(text)[:4])) or "Untitled Segment"


def _unique_title(title: str, keywords: Sequence[str], used: set[str]) -> str:
    """Two segments on the same subject get told apart by their next keyword."""
    candidate = title
    if candidate.lower() in used:
        extra = next((kw for kw in keywords if kw.lower() not in title.lower()), None)
        candidate = f"{title}: {title_case(extra)}" if extra else f"{title} (continued)"
        n = 2
        while candidate.lower() in used:
            candidate = f"{title} (part {n})"
            n += 1
    used.add(candidate.lower())
    return candidate


def _slide_keywords(shown: Sequence[Slide], keywords: Sequence[str], text: str) -> list[str]:
    """Keyphrases the slides also show first, then the slides' short labels that are
    spoken (diagram labels, terms), then the rest."""
    slide_text = " ".join(s.text for s in shown).lower()
    spoken = text.lower()
    on_slide = [kw for kw in keywords if kw.lower() in slide_text]
    labels = [
        ln.text.strip().lower()
        for s in shown
        for ln in s.lines
        if 1 <= len(ln.text.split()) <= 3
        and re.search(rf"\b{re.escape(ln.text.strip().lower())}\b", spoken)
    ]
    merged: list[str] = []
    for kw in [*on_slide, *labels, *keywords]:
        if kw and kw.lower() not in {m.lower() for m in merged}:
            merged.append(kw)
    return merged[:KEYWORDS_PER_SEGMENT]


def _slide_concepts(shown: Sequence[Slide], title: str, concepts: Sequence[str]) -> list[str]:
    """The slides' own titles under the topic (sub-topics), then the lexical concepts."""
    merged: list[str] = []
    for name in [*(clean_title(s.title) for s in shown), *concepts]:
        if name and normalize(name) != normalize(title) and name not in merged:
            merged.append(name)
    return merged[:CONCEPTS_PER_SEGMENT]
