"""Speech to text behind one small interface.

    transcriber = get_transcriber(settings)   # settings.transcriber: "local" | "openai"
    transcript = transcriber.transcribe(wav_path, progress=lambda share: ...)

Providers: `LocalWhisperTranscriber` (faster-whisper on the CPU, offline, the default)
and `OpenAITranscriber` (the Whisper API, chunked under its upload limit). Both return a
`highlights.types.Transcript` on the recording's own timeline and raise
`TranscriptionError` whose `transient` flag says whether a retry may help.
"""

from __future__ import annotations

from typing import Any

from highlights.transcription.base import ProgressCallback, Transcriber, TranscriptionError

__all__ = ["ProgressCallback", "Transcriber", "TranscriptionError", "get_transcriber"]


def get_transcriber(settings: Any) -> Transcriber:
    """The provider named by `settings.transcriber`, configured from the same settings."""
    kind = getattr(settings, "transcriber", "local")
    if kind == "openai":
        from highlights.transcription.openai_api import OpenAITranscriber

        return OpenAITranscriber.from_settings(settings)
    if kind == "local":
        from highlights.transcription.local import LocalWhisperTranscriber

        return LocalWhisperTranscriber.from_settings(settings)
    raise TranscriptionError(
        f"HIGHLIGHTS_TRANSCRIBER={kind!r} is not a transcriber; use 'local' or 'openai'",
        transient=False,
    )
