"""Content analysis: topic segments with titles, descriptions and importance scores.

Three analyzers behind one interface (``Analyzer``), chosen by ``settings.analyzer``:

- ``local`` (default, offline): TextTiling topic boundaries strengthened by slide
  changes and pauses, keyphrase titles, cue-phrase importance. See ``local.py``.
- ``gemini``: Google Gemini through google-genai with structured JSON output, windowed
  for long lectures, validated, with one re-ask and a local fallback. See ``gemini.py``.
- ``openai``: any server speaking OpenAI chat completions (Ollama, vLLM, llama.cpp,
  LM Studio, OpenAI), with the same prompt, answer checks, windows and fallback as
  Gemini (``llm_analysis.py``). See ``openai_chat.py``.
"""

from __future__ import annotations

from highlights.content.base import AnalysisError, Analyzer
from highlights.content.local import LocalAnalyzer
from highlights.settings import Settings


def get_analyzer(settings: Settings) -> Analyzer:
    """The analyzer the settings ask for (HIGHLIGHTS_ANALYZER=local|gemini|openai)."""
    if settings.analyzer == "local":
        return LocalAnalyzer()
    if settings.analyzer == "gemini":
        from highlights.content.gemini import GeminiAnalyzer

        if not settings.gemini_api_key:
            raise AnalysisError(
                "HIGHLIGHTS_ANALYZER=gemini needs GEMINI_API_KEY (or GOOGLE_API_KEY) to be set",
                transient=False,
            )
        return GeminiAnalyzer(
            api_key=settings.gemini_api_key,
            model=settings.gemini_model,
            base_url=settings.gemini_base_url,
        )
    if settings.analyzer == "openai":
        from highlights.content.openai_chat import OpenAIChatAnalyzer

        return OpenAIChatAnalyzer.from_settings(settings)
    raise AnalysisError(
        f"HIGHLIGHTS_ANALYZER={settings.analyzer!r} is not valid; use local, gemini or openai"
    )


__all__ = ["AnalysisError", "Analyzer", "LocalAnalyzer", "get_analyzer"]
