"""Transcription through the OpenAI Whisper API (or any server speaking its protocol).

The recording goes up as compressed chunks cut at pauses, several at a time; every
timestamp that comes back is moved by its chunk's offset so the joined transcript reads
as one continuous, monotonic timeline.
"""

from __future__ import annotations

import logging
import random
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai

from highlights.openai_http import retry_after_seconds
from highlights.transcription.base import ProgressCallback, ProgressReporter, TranscriptionError
from highlights.transcription.chunking import ChunkSpan, encode_chunk, plan_chunks
from highlights.transcription.openai_errors import classify
from highlights.transcription.segments import (
    RawSegment,
    attach_words,
    dropped_notes,
    finalize,
    shift,
)
from highlights.transcription.wav import PauseMap, WavAudio, open_wav, pause_map
from highlights.types import Transcript, Word

log = logging.getLogger(__name__)

API_UPLOAD_LIMIT_BYTES = 25 * 1024 * 1024
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MIN_AUDIO_SECONDS = 0.1  # the API refuses shorter audio

# verbose_json names the language ("english"); faster-whisper gives ISO 639-1 ("en").
# The common lecture languages are mapped so both providers report the same code.
_LANGUAGE_CODES = {
    "english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it",
    "portuguese": "pt", "dutch": "nl", "polish": "pl", "russian": "ru", "ukrainian": "uk",
    "czech": "cs", "swedish": "sv", "danish": "da", "norwegian": "no", "finnish": "fi",
    "greek": "el", "turkish": "tr", "arabic": "ar", "hebrew": "he", "hindi": "hi",
    "chinese": "zh", "japanese": "ja", "korean": "ko", "vietnamese": "vi",
    "indonesian": "id", "romanian": "ro", "hungarian": "hu", "catalan": "ca",
}  # fmt: skip


def language_code(name: str) -> str:
    """ISO 639-1 code for a Whisper language name; unknown names are kept as given."""
    return _LANGUAGE_CODES.get(name.strip().lower(), name)


@dataclass(frozen=True)
class ChunkingOptions:
    max_chunk_seconds: float = 600.0  # ten minutes: ~2.4 MiB of Opus, and 4 chunks in flight
    search_seconds: float = 90.0  # how far before the limit a cut may move to find a pause
    max_chunk_bytes: int = 20 * 1024 * 1024  # below the API's 25 MiB with room for headers
    min_chunk_seconds: float = 5.0  # never split an oversize chunk finer than this
    bitrate: str = "32k"
    max_workers: int = 4


@dataclass(frozen=True)
class RetryPolicy:
    """Our own retries (the SDK's are off), so count and time are both bounded and visible.

    Transient failures wait base_delay * 2**n (capped at max_delay, with jitter) or the
    server's Retry-After when it gives one; a chunk gives up after max_attempts tries or
    when the next wait would take its total waiting past max_total_wait seconds.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_total_wait: float = 120.0


@dataclass
class _ChunkResult:
    span: ChunkSpan
    segments: list[RawSegment]
    language: str | None
    uploads: list[dict[str, Any]] = field(default_factory=list)


class OpenAITranscriber:
    name = "openai-whisper"

    def __init__(
        self,
        api_key: str | None,
        *,
        model: str = "whisper-1",
        base_url: str | None = None,
        chunking: ChunkingOptions | None = None,
        retry: RetryPolicy | None = None,
        request_timeout: float = 300.0,
        work_dir: str | Path | None = None,
        language: str | None = None,
    ) -> None:
        if not api_key:
            raise TranscriptionError(
                "the OpenAI transcriber needs an API key: set OPENAI_API_KEY", transient=False
            )
        self.model = model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.chunking = chunking or ChunkingOptions()
        if self.chunking.max_chunk_bytes > API_UPLOAD_LIMIT_BYTES:
            raise ValueError("max_chunk_bytes must stay under the API's 25 MiB upload limit")
        self.retry = retry or RetryPolicy()
        self.work_dir = Path(work_dir) if work_dir else None
        self.language = language
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=self.base_url,
            max_retries=0,  # RetryPolicy below does it, bounded in count and time
            timeout=openai.Timeout(request_timeout, connect=10.0),
        )

    @classmethod
    def from_settings(cls, settings: Any) -> OpenAITranscriber:
        return cls(
            settings.openai_api_key,
            model=settings.openai_model,
            base_url=settings.openai_base_url,
            work_dir=settings.work_dir,
        )

    def transcribe(
        self,
        wav_path: str,
        *,
        duration: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Transcript:
        audio = open_wav(wav_path)
        total = audio.duration if duration is None else min(duration, audio.duration)
        if total < MIN_AUDIO_SECONDS:  # nothing to say; the API would refuse it anyway
            return Transcript([], None, self.name, self.model, {"duration": round(total, 3)})
        pauses = pause_map(audio)
        plan = plan_chunks(
            0.0, total, pauses.cut_gaps, pauses.levels_dbfs, pauses.hop,
            max_seconds=self.chunking.max_chunk_seconds,
            search_seconds=self.chunking.search_seconds,
        )  # fmt: skip
        reporter = ProgressReporter(progress, total)
        started = time.monotonic()
        if self.work_dir is not None:
            self.work_dir.mkdir(parents=True, exist_ok=True)
        cancelled = threading.Event()
        results: list[_ChunkResult] = []
        with tempfile.TemporaryDirectory(prefix="whisper-chunks-", dir=self.work_dir) as tmp:
            workers = max(1, min(self.chunking.max_workers, len(plan)))
            with ThreadPoolExecutor(workers, thread_name_prefix="whisper-upload") as pool:
                pending = {
                    pool.submit(self._chunk, audio, span, pauses, tmp, cancelled) for span in plan
                }
                done_seconds = 0.0
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for future in done:
                        if future.exception() is not None:
                            cancelled.set()
                            for other in pending:
                                other.cancel()
                            raise future.exception()  # type: ignore[misc]
                        result = future.result()
                        results.append(result)
                        done_seconds += result.span.duration
                        reporter.seconds_done(done_seconds)
        results.sort(key=lambda r: r.span.start)
        segments, dropped = finalize([s for r in results for s in r.segments], pauses.long_pauses)
        uploads = [u for r in results for u in r.uploads]
        languages = Counter(r.language for r in results if r.language)
        uploaded = sum(u["bytes"] for u in uploads)
        notes = [f"{len(uploads)} chunks uploaded, {uploaded / 2**20:.1f} MiB"]
        notes += [
            f"no pause near {u['end']:.0f}s: chunk cut at the quietest moment"
            for u in uploads[:-1]
            if not u["cut_in_silence"]
        ]
        notes += dropped_notes(dropped)
        reporter.finish()
        return Transcript(
            segments=segments,
            language=language_code(languages.most_common(1)[0][0]) if languages else None,
            provider=self.name,
            model=self.model,
            metadata={
                "duration": round(total, 3),
                "chunks": uploads,
                "chunk_count": len(uploads),
                "uploaded_bytes": uploaded,
                "attempts": sum(u["attempts"] for u in uploads),
                "dropped_segments": [d.to_dict() for d in dropped],
                "elapsed_seconds": round(time.monotonic() - started, 2),
                "notes": notes,
            },
        )

    def _chunk(
        self,
        audio: WavAudio,
        span: ChunkSpan,
        pauses: PauseMap,
        tmp: str,
        cancelled: threading.Event,
    ) -> _ChunkResult:
        if cancelled.is_set():
            raise TranscriptionError("cancelled after another chunk failed", transient=True)
        path = Path(tmp) / f"chunk-{span.start:09.3f}-{span.end:09.3f}.ogg"
        size = encode_chunk(audio.path, span, path, bitrate=self.chunking.bitrate)
        if size > self.chunking.max_chunk_bytes:
            path.unlink(missing_ok=True)
            return self._split_oversize(audio, span, size, pauses, tmp, cancelled)
        try:
            response, attempts = self._upload(path, span, cancelled)
        finally:
            path.unlink(missing_ok=True)
        segments = _parse_response(response, span)
        language = getattr(response, "language", None)
        upload = {
            "start": round(span.start, 3),
            "end": round(span.end, 3),
            "bytes": size,
            "attempts": attempts,
            "cut_in_silence": span.cut_in_silence,
        }
        return _ChunkResult(span, segments, language, [upload])

    def _split_oversize(
        self,
        audio: WavAudio,
        span: ChunkSpan,
        size: int,
        pauses: PauseMap,
        tmp: str,
        cancelled: threading.Event,
    ) -> _ChunkResult:
        """A chunk compressed worse than expected (noise, music): split it at pauses."""
        limit = self.chunking.max_chunk_bytes
        if span.duration / 2 < self.chunking.min_chunk_seconds:
            raise TranscriptionError(
                f"audio {span.start:.0f}-{span.end:.0f}s compresses to {size} bytes, over the "
                f"{limit}-byte upload limit even in {span.duration:.1f}s pieces",
                transient=False,
            )
        log.info(
            "chunk %.0f-%.0fs is %d bytes (> %d): splitting", span.start, span.end, size, limit
        )
        half = span.duration / 2
        parts = plan_chunks(
            span.start, span.end, pauses.cut_gaps, pauses.levels_dbfs, pauses.hop,
            max_seconds=max(half * 1.2, self.chunking.min_chunk_seconds),
            search_seconds=half * 0.4,
        )  # fmt: skip
        merged = _ChunkResult(span, [], None)
        for part in parts:
            result = self._chunk(audio, part, pauses, tmp, cancelled)
            merged.segments.extend(result.segments)
            merged.uploads.extend(result.uploads)
            merged.language = merged.language or result.language
        return merged

    def _upload(self, path: Path, span: ChunkSpan, cancelled: threading.Event) -> tuple[Any, int]:
        policy = self.retry
        waited = 0.0
        for attempt in range(1, policy.max_attempts + 1):
            try:
                with path.open("rb") as fh:
                    response = self._client.audio.transcriptions.create(
                        model=self.model,
                        file=(path.name, fh, "audio/ogg"),
                        response_format="verbose_json",
                        timestamp_granularities=["segment", "word"],
                        **({"language": self.language} if self.language else {}),
                    )
                return response, attempt
            except (openai.APIStatusError, openai.APIConnectionError) as exc:
                error = classify(exc, base_url=self.base_url, model=self.model)
                if not error.transient:
                    raise error from None
                delay = retry_after_seconds(exc)
                if delay is None:
                    delay = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
                    delay *= random.uniform(0.8, 1.0)  # spread the retries of parallel chunks
                where = f"chunk {span.start:.0f}-{span.end:.0f}s"
                if attempt == policy.max_attempts or waited + delay > policy.max_total_wait:
                    raise TranscriptionError(
                        f"{error.message} - gave up on {where} after {attempt} attempts "
                        f"and {waited:.1f}s of waiting",
                        transient=True,
                    ) from None
                if cancelled.is_set():
                    raise error from None
                log.warning("%s: %s; retry %d in %.1fs", where, error.message, attempt, delay)
                time.sleep(delay)
                waited += delay
        raise AssertionError("unreachable")  # pragma: no cover


def _parse_response(response: Any, span: ChunkSpan) -> list[RawSegment]:
    raw_segments = getattr(response, "segments", None)
    if raw_segments is None:
        raise TranscriptionError(
            "the transcription server answered without segments; it must support "
            "response_format=verbose_json (is OPENAI_BASE_URL an OpenAI-compatible server?)",
            transient=False,
        )
    segments = [
        RawSegment(
            start=float(s.start),
            end=float(s.end),
            text=str(s.text),
            avg_logprob=_float_or_none(getattr(s, "avg_logprob", None)),
            no_speech_prob=_float_or_none(getattr(s, "no_speech_prob", None)),
        )
        for s in raw_segments
    ]
    segments.sort(key=lambda s: s.start)
    words = [
        Word(float(w.start), float(w.end), str(w.word))
        for w in (getattr(response, "words", None) or [])
    ]
    attach_words(segments, words)
    return [shift(s, span.start, span.start, span.end) for s in segments]


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
