"""Transcription on this machine with faster-whisper (CTranslate2, int8 on the CPU).

Long recordings are fed in windows of at most `window_seconds`, cut at pauses like the
API chunks, so memory stays bounded (a six-hour lecture would be 1.4 GB of float32) and
progress is reported as each segment is decoded.

Inside a window the decoder is either faster-whisper's `BatchedInferencePipeline`
(`batch_size` >= 2, the default: VAD cuts the window into speech pieces of at most 30 s
and `batch_size` of them are decoded together) or the sequential decoder (`batch_size`
0 or 1: one 30 s window after the other, each prompted with the text before it).
On 10 minutes of dense speech batches of 4 took 35-40% less CPU time than the sequential
decoder, for a word error rate 0.3 points higher (docs/benchmarks.md, "Batched
transcription").
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from highlights.low_priority import critical_work
from highlights.memory import return_freed_memory
from highlights.transcription.base import ProgressCallback, ProgressReporter, TranscriptionError
from highlights.transcription.chunking import plan_chunks
from highlights.transcription.model_store import resolve_model
from highlights.transcription.segments import (
    RawSegment,
    dropped_notes,
    finalize,
    shift,
    split_at_sentences,
)
from highlights.transcription.vad import bound_vad_batches
from highlights.transcription.wav import WavAudio, open_wav, pause_map
from highlights.types import Transcript, Word

log = logging.getLogger(__name__)

# Chosen with bench/bench_transcription.py on 10 minutes of dense speech (docs/benchmarks.md):
# batches of 4, 8 and 16 cost the same CPU time on 2 cores, but peak memory grows with
# the batch (0.84-0.90, 1.18, 1.88 GB), so the smallest one.
DEFAULT_BATCH_SIZE = 4

# How VAD cuts a window into pieces: a 500 ms pause ends a piece, 200 ms of padding each
# side, as the sequential decoder uses it. The pipeline's own default (160 ms / 400 ms)
# gave 12.3% WER against 11.4% on the dense material, at the same CPU time.
BATCHED_VAD: dict[str, int] = {"min_silence_duration_ms": 500, "speech_pad_ms": 200}
# Off, as in faster-whisper's default: with Whisper's timestamp tokens the batched
# decoder lost the last sentence of some pieces (WER 23% vs 8% on screen.mp4, 16.6% vs
# 12.3% on dense speech). A piece then comes back as one segment, which is cut into
# sentences afterwards.
BATCHED_SEGMENT_TIMESTAMPS = False

# (window samples, language or None) -> (segments, as they are decoded; TranscriptionInfo)
Decoder = Callable[[np.ndarray, "str | None"], tuple[Iterable[Any], Any]]


def load_model(folder: str, cpu_threads: int) -> Any:
    """A WhisperModel for one recording, loaded in the thread that decodes with it.

    Not kept for the next recording: loading costs 1.3-1.5 s, while a model kept in the
    process holds about 180 MB through every later stage of the job (the clip renders
    among them), and decoding with a model loaded by a thread that has since ended ran
    5-7x slower (Prefect's task threads end with each flow run).
    """
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=cpu_threads)
    except (RuntimeError, ValueError, OSError) as exc:
        raise TranscriptionError(
            f"could not load the Whisper model in {folder}: {exc}", transient=False
        ) from None


class PieceByPiece:
    """A WhisperModel as `BatchedInferencePipeline` uses it, except that the encoder and
    the word aligner take a batch's pieces one at a time; the beam search still decodes
    them together, which is where batching saves time.

    Both hold attention weights for every piece of the batch at once: the encoder a
    1500 x 1500 float32 matrix per head and piece, the aligner the cross-attention of
    every text token over 1500 frames in every layer. With batches of 4 they were the
    transcriber's two peaks, on top of what the layout branch holds at the same moment:
    the encoder made the process 348 MB larger while it ran (78 MB a piece at a time),
    and on 10 minutes of the benchmark lecture's speech the process peaked inside the
    aligner at 728 MB (the beam search at 632). The CPU time is the same or less (three
    batches of 4 through the encoder: 12.8 CPU-s batched, 11.1 a piece at a time) and the
    transcript identical, since each piece is encoded and aligned on its own either way.
    """

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def encode(self, features: np.ndarray) -> Any:
        if features.ndim == 2 or len(features) <= 1:
            return self._model.encode(features)
        pieces = [np.asarray(self._model.encode(features[i : i + 1])) for i in range(len(features))]
        return _storage(np.concatenate(pieces))

    def add_word_timestamps(self, *args: Any, **kwargs: Any) -> Any:
        # faster-whisper's own method, run with this object as `self` so that its call to
        # `self.find_alignment` comes here
        return type(self._model).add_word_timestamps(self, *args, **kwargs)

    def find_alignment(
        self,
        tokenizer: Any,
        text_tokens: list[list[int]],
        encoder_output: Any,
        num_frames: int | list[int],
        median_filter_width: int = 7,
    ) -> list[Any]:
        if len(text_tokens) <= 1:
            return self._model.find_alignment(
                tokenizer, text_tokens, encoder_output, num_frames, median_filter_width
            )
        encoded = np.asarray(encoder_output)
        frames = num_frames if isinstance(num_frames, list) else [num_frames] * len(text_tokens)
        aligned: list[Any] = []
        for i, tokens in enumerate(text_tokens):
            if not tokens:  # what the batched call gives a piece without words
                aligned.append([])
                continue
            aligned.extend(
                self._model.find_alignment(
                    tokenizer, [tokens], _storage(encoded[i : i + 1]), [frames[i]],
                    median_filter_width,
                )
            )  # fmt: skip
        return aligned


def _storage(array: np.ndarray) -> Any:
    import ctranslate2

    return ctranslate2.StorageView.from_array(np.ascontiguousarray(array))


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
        batch_size: int = DEFAULT_BATCH_SIZE,
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
        if batch_size < 0:
            raise TranscriptionError(
                f"batch size {batch_size} (HIGHLIGHTS_WHISPER_BATCH_SIZE): use 0 or 1 for the "
                "sequential decoder, or the number of speech pieces to decode together",
                transient=False,
            )
        self.batch_size = batch_size

    @property
    def batched(self) -> bool:
        """0 and 1 mean the sequential decoder: a batch of one would only lose its prompting."""
        return self.batch_size >= 2

    @classmethod
    def from_settings(cls, settings: Any) -> LocalWhisperTranscriber:
        return cls(
            settings.whisper_model,
            batch_size=getattr(settings, "whisper_batch_size", DEFAULT_BATCH_SIZE),
        )

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
        # while it decodes, slide OCR keeps to one niced reader (highlights.ocr_readers)
        with critical_work():
            return self._transcribe(audio, total, progress)

    def _transcribe(self, audio: WavAudio, total: float, progress: ProgressCallback | None) -> Transcript:
        folder, source = resolve_model(self.model)
        model = load_model(folder, self.cpu_threads)
        bound_vad_batches()  # VAD in 1,000-frame runs: -100 MB at each window's start
        started = time.monotonic()
        pauses = pause_map(audio)
        windows = plan_chunks(
            0.0, total, pauses.cut_gaps, pauses.levels_dbfs, pauses.hop,
            max_seconds=self.window_seconds, search_seconds=min(120.0, self.window_seconds / 4),
        )  # fmt: skip
        reporter = ProgressReporter(progress, total)
        decode = self._decode_batched(model) if self.batched else self._decode_sequential(model)
        language = self.language
        raw: list[RawSegment] = []
        for window in windows:
            # The last window's decoder buffers are free but still held by the heap;
            # handing them back keeps the peak at one window's (910 -> 800 MB on 30
            # minutes of dense speech, batch 4): glibc does not reuse them in place.
            return_freed_memory()
            samples = audio.read_span(window.start, window.end)
            segments, details = decode(samples, language)
            language = language or details.language
            for seg in segments:  # a generator: decoding happens while we iterate
                pieces = split_at_sentences(raw_segment(seg)) if self.batched else [raw_segment(seg)]
                for piece in pieces:
                    raw.append(shift(piece, window.start, window.start, window.end))
                    # Batched, segments come a batch at a time (batch_size pieces of up
                    # to 30 s), so progress moves in steps of that size; reported per
                    # segment all the same, so the share names what is in hand.
                    reporter.seconds_done(window.start + piece.end)
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
                "batch_size": self.batch_size if self.batched else 1,
                "decoder": "batched" if self.batched else "sequential",
                "cpu_threads": self.cpu_threads,
                "elapsed_seconds": round(elapsed, 2),
                "realtime_factor": round(total / elapsed, 2) if elapsed > 0 else None,
                "dropped_segments": [d.to_dict() for d in dropped],
                "notes": [f"Whisper model {self.model!r} from {source}", *dropped_notes(dropped)],
            },
        )

    def _decode_sequential(self, model: Any) -> Decoder:
        def decode(samples: np.ndarray, language: str | None) -> tuple[Iterable[Any], Any]:
            return model.transcribe(
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

        return decode

    def _decode_batched(self, model: Any) -> Decoder:
        from faster_whisper import BatchedInferencePipeline

        # One pipeline per recording: it carries the last word's time between batches
        # (for word timestamps), so two recordings must not share one.
        pipeline = BatchedInferencePipeline(PieceByPiece(model))

        def decode(samples: np.ndarray, language: str | None) -> tuple[Iterable[Any], Any]:
            return pipeline.transcribe(
                samples,
                language=language,
                batch_size=self.batch_size,
                beam_size=self.beam_size,
                word_timestamps=True,
                without_timestamps=not BATCHED_SEGMENT_TIMESTAMPS,
                # VAD is what cuts the window into the pieces decoded side by side; a
                # fresh dict each call because the pipeline pops keys out of it.
                vad_filter=True,
                vad_parameters=dict(BATCHED_VAD),
            )

        return decode


def raw_segment(seg: Any) -> RawSegment:
    """A faster-whisper Segment as a RawSegment, times still relative to its window."""
    words = [
        Word(float(w.start), float(w.end), w.word, round(float(w.probability), 4))
        for w in seg.words or []
    ]
    return RawSegment(
        float(seg.start), float(seg.end), seg.text,
        float(seg.avg_logprob), float(seg.no_speech_prob), words,
    )  # fmt: skip
