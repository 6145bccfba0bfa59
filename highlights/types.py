"""Typed results passed between the analysis stages.

These are the core's vocabulary: plain dataclasses of numbers and strings, with no
knowledge of Prefect or SQL. Times are always seconds from the start of the
original recording unless a field says otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SilenceType = Literal["audio_silence", "blank_screen", "both"]
LayoutType = Literal["side_by_side", "picture_in_picture", "full_screen", "split_vertical", "custom"]
ClipFormat = Literal["original", "vertical"]


@dataclass(frozen=True)
class Region:
    """A rectangle in normalised frame coordinates (0-1), origin top-left."""

    x: float
    y: float
    width: float
    height: float

    @classmethod
    def empty(cls) -> Region:
        return cls(0.0, 0.0, 0.0, 0.0)

    @classmethod
    def full(cls) -> Region:
        return cls(0.0, 0.0, 1.0, 1.0)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> Region:
        return cls(float(data["x"]), float(data["y"]), float(data["width"]), float(data["height"]))

    @property
    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def iou(self, other: Region) -> float:
        ix = max(0.0, min(self.x + self.width, other.x + other.width) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.height, other.y + other.height) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class SilenceRegion:
    start: float
    end: float
    silence_type: SilenceType
    amplitude_threshold: float | None = None  # dBFS threshold used (audio kinds only)

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class SilenceResult:
    regions: list[SilenceRegion]
    noise_floor_dbfs: float | None = None
    threshold_dbfs: float | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "no audio stream: audio silence skipped"


@dataclass(frozen=True)
class LayoutResult:
    screen_region: Region
    camera_region: Region  # Region.empty() when there is no presenter camera
    split_ratio: float  # share of the frame given to the screen, e.g. 0.7 for 70/30
    layout_type: LayoutType
    confidence_score: float
    sample_frame_time: float | None
    detector: str = "motion+haar"


@dataclass(frozen=True)
class SlideLine:
    """One line of text read off a slide, with the OCR engine's confidence (0-1)."""

    text: str
    confidence: float


@dataclass(frozen=True)
class Slide:
    """One distinct slide: shown from `start` to `end`, bullet builds included.

    `title` is the slide's heading (its top or largest line, cleaned); `lines` are the
    body lines in reading order, without the footer that repeats on every slide.
    `confidence` is the mean OCR confidence of what was kept. `section` is a running
    label (a header or footer that names the part of the lecture and changes between
    parts, as Beamer's navigation lines do), empty when the deck has none.
    """

    start: float
    end: float
    title: str
    lines: tuple[SlideLine, ...] = ()
    confidence: float = 0.0
    section: str = ""

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def text(self) -> str:
        """Title and body as one string, for search and keyword extraction."""
        return "\n".join([self.title, *(line.text for line in self.lines)]).strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "title": self.title,
            "lines": [{"text": ln.text, "confidence": round(ln.confidence, 3)} for ln in self.lines],
            "confidence": round(self.confidence, 3),
            "section": self.section,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Slide:
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            title=str(data.get("title") or ""),
            lines=tuple(
                SlideLine(str(ln["text"]), float(ln.get("confidence", 0.0)))
                for ln in data.get("lines", [])
            ),
            confidence=float(data.get("confidence", 0.0)),
            section=str(data.get("section") or ""),
        )


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass
class TranscriptSegment:
    start: float
    end: float
    text: str
    confidence: float | None  # 0-1
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcript:
    segments: list[TranscriptSegment]
    language: str | None = None
    provider: str = ""  # agent name, e.g. "faster-whisper" or "openai-whisper"
    model: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        segments = [
            TranscriptSegment(
                start=s["start"],
                end=s["end"],
                text=s["text"],
                confidence=s.get("confidence"),
                words=[Word(**w) for w in s.get("words", [])],
            )
            for s in data.get("segments", [])
        ]
        return cls(
            segments=segments,
            language=data.get("language"),
            provider=data.get("provider", ""),
            model=data.get("model", ""),
            metadata=data.get("metadata", {}),
        )


@dataclass
class TopicSegment:
    start: float
    end: float
    topic: str
    description: str | None
    importance_score: float  # 0-1
    keywords: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class ContentAnalysis:
    segments: list[TopicSegment]  # ordered, non-overlapping
    provider: str  # agent name, e.g. "local-texttiling" or "gemini"
    model: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. "gemini answer invalid twice; local analyzer used"


@dataclass
class ClipPlan:
    start: float
    end: float
    segment_index: int  # index into ContentAnalysis.segments
    title: str
    topic: str
    importance_score: float
    rank: int  # 1 = best
    notes: list[str] = field(default_factory=list)  # what gave, e.g. a clip over the maximum

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class RenderedClip:
    plan: ClipPlan
    video_path: str
    thumbnail_path: str | None
    srt_path: str | None
    vtt_path: str | None
    metadata: dict[str, Any] = field(default_factory=dict)  # format, resolution, file size, encoder


@dataclass(frozen=True)
class MediaProbe:
    """What ingest learns about a file, from its bytes."""

    duration: float
    content_type: str
    container: str
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    pixel_aspect: str | None = None  # "1:1", "2:3", ...
    extra: dict[str, Any] = field(default_factory=dict)
