"""Transcription on this machine with faster-whisper (CTranslate2, int8 on the CPU).

Long recordings are fed in windows of at most `window_seconds`, cut at pauses like the
API chunks, so memory stays bounded (a six-hour lecture would be 1.4 GB of float32) and
progress is reported as each segment is decoded.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from highlights.transcription.base import ProgressCallback, ProgressReporter, TranscriptionError
from highlights.transcription.chunking import plan_chunks
from highlights.transcription.model_store import resolve_model
from highlights.transcription.segments import RawSegment, dropped_notes, finalize, shift
from highlights.transcription.wav import open_wav, pause_map
from highlights.types import Transcript, Word

log = logging.getLogger(__name__)

_models: dict[tuple[str, int], Any] = {}
_models_lock = threading.Lock()


def load_model(folder: str, cpu_threads: int) -> Any:
    """One WhisperModel per (folder, threads) per process: loading costs seconds."""
    key = (folder, cpu_threads)
    with _models_lock:
        if key not in _models:
            from faster_whisper import WhisperModel

            try:
                _models[key] = WhisperModel(
                    folder, device="cpu", compute_type="int8", cpu_threads=cpu_threads
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise TranscriptionError(
                    f"could not load the Whisper model in {folder}: {exc}", transient=False
                ) from None
        return _models[key]


class LocalWhisperTranscriber:
    name = "faster-whisper"

    def __init__(
        self,
        model: str = "base",
        *,
        cpu_threads: int | None = None,
        beam_size: int = 5,
        window_seconds: float = 600.0,
        language: str | None = None,
    ) -> None:
        self.model = model
        self.cpu_threads = cpu_threads or os.cpu_count() or 1
        # Beam search, not greedy: with word timestamps and the previous text as prompt,
        # greedy decoding fell into repetition loops on the generated lectures and then
        # paid for five temperature fallbacks, costing twice the CPU time of beam 5
        # (15.4 s vs 7.5 s for 112 s of audio) for a worse word error rate.
        self.beam_size = beam_size
        # faster-whisper computes a window's log-mel features at once: 30-minute windows
        # raised peak memory by 1.27 GB, 10-minute ones by 0.42 GB (bench_pipeline.py).
        self.window_seconds = window_seconds
        self.language = language

    @classmethod
    def from_settings(cls, settings: Any) -> LocalWhisperTranscriber:
        return cls(settings.whisper_model)

    def transcribe(
        self,
        wav_path: str,
        *,
        duration: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Transcript:
        audio = open_wav(wav_path)
        if audio.sample_rate != 16000:
            raise TranscriptionError(
                f"{wav_path} is {audio.sample_rate} Hz; local transcription expects the 16 kHz "
                "mono WAV made by highlights.audio.extract_audio",
                transient=False,
            )
        total = audio.duration if duration is None else min(duration, audio.duration)
        if total < 0.1:  # too short to hold a word
            return Transcript(
                [], self.language, self.name, self.model, {"duration": round(total, 3)}
            )
        folder, source = resolve_model(self.model)
        model = load_model(folder, self.cpu_threads)
        started = time.monotonic()
        pauses = pause_map(audio)
        windows = plan_chunks(
            0.0, total, pauses.cut_gaps, pauses.levels_dbfs, pauses.hop,
            max_seconds=self.window_seconds, search_seconds=min(120.0, self.window_seconds / 4),
        )  # fmt: skip
        reporter = ProgressReporter(progress, total)
        language = self.language
        raw: list[RawSegment] = []
        for window in windows:
            samples = audio.read_span(window.start, window.end)
            segments, details = model.transcribe(
                samples,
                language=language,
                beam_size=self.beam_size,
                word_timestamps=True,
                # Silero VAD (shipped inside faster-whisper) skips pauses before decoding:
                # faster, and Whisper gets no silence to invent text in.
                vad_filter=True,
                vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 200},
                # The previous text as prompt keeps terms and spelling consistent (on the
                # generated lectures it halves the word error rate, 15% -> 8%); loops are
                # cut by faster-whisper's prompt reset on temperature fallback and by VAD.
                condition_on_previous_text=True,
            )
            language = language or details.language
            for seg in segments:  # a generator: decoding happens while we iterate
                words = [
                    Word(float(w.start), float(w.end), w.word, round(float(w.probability), 4))
                    for w in seg.words or []
                ]
                piece = RawSegment(
                    float(seg.start), float(seg.end), seg.text,
                    float(seg.avg_logprob), float(seg.no_speech_prob), words,
                )  # fmt: skip
                raw.append(shift(piece, window.start, window.start, window.end))
                reporter.seconds_done(window.start + seg.end)
            reporter.seconds_done(window.end)
        kept, dropped = finalize(raw, pauses.long_pauses)
        elapsed = time.monotonic() - started
        reporter.finish()
        return Transcript(
            segments=kept,
            language=language,
            provider=self.name,
            model=self.model,
            metadata={
                "duration": round(total, 3),
                "model_source": source,
                "model_path": folder,
                "windows": len(windows),
                "beam_size": self.beam_size,
                "cpu_threads": self.cpu_threads,
                "elapsed_seconds": round(elapsed, 2),
                "realtime_factor": round(total / elapsed, 2) if elapsed > 0 else None,
                "dropped_segments": [d.to_dict() for d in dropped],
                "notes": [f"Whisper model {self.model!r} from {source}", *dropped_notes(dropped)],
            },
        )
