"""One settings object, read from the environment.

Operators and scripts rely on these variable names; a wrong value fails at start with a
message that names the variable, instead of surfacing later deep inside a stage.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from highlights.errors import HighlightsError


class SettingsError(HighlightsError, ValueError):
    """A configuration value is missing or wrong; the message names the variable."""


TRANSCRIBERS = ("local", "openai")
ANALYZERS = ("local", "gemini", "openai")
CLIP_FORMATS = ("original", "vertical")


@dataclass(frozen=True)
class Settings:
    database_url: str
    storage_url: str
    s3_endpoint_url: str | None
    transcriber: str
    analyzer: str
    openai_api_key: str | None
    openai_base_url: str | None
    openai_model: str
    gemini_api_key: str | None
    gemini_base_url: str | None
    gemini_model: str
    # HIGHLIGHTS_ANALYZER=openai: any server speaking OpenAI chat completions (Ollama,
    # vLLM, llama.cpp, LM Studio, OpenAI itself).
    llm_base_url: str | None
    llm_model: str | None
    llm_api_key: str | None  # local servers need none
    llm_window_seconds: float  # transcript per request; small local models do better short
    whisper_model: str  # a path to a CTranslate2 model folder, or a model size name
    # Speech pieces the local transcriber decodes together; 0 or 1 = the sequential decoder.
    whisper_batch_size: int
    work_dir: Path
    max_upload_bytes: int
    max_duration_seconds: float
    clip_count: int
    clip_min_seconds: float
    clip_max_seconds: float
    clip_overrun_seconds: float  # how far a clip may run over the maximum to end a sentence
    # The default clip plan is kept to this share of a short lecture (explicit counts
    # and lengths are not): five 90-s clips of an 8-minute lecture would be most of it.
    clip_share: float
    # HIGHLIGHTS_CLIP_COUNT / _MAX_SECONDS were set: a choice, kept like a job's own.
    clip_count_chosen: bool
    clip_max_chosen: bool
    clip_format: str
    read_slides: bool  # OCR the slides for titles, boundaries and search
    api_token: str | None
    api_auth_disabled: bool
    retry_delays: tuple[float, ...]  # seconds before each retry of a transiently failed stage

    @property
    def uses_s3(self) -> bool:
        return self.storage_url.startswith("s3://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default).strip().lower() or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not valid; use one of: {', '.join(allowed)}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool = False,
            minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingsError(f"{name}={raw!r} is not {kind}") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default)
    if not 0.0 < value <= 1.0:
        raise SettingsError(f"{name}={env.get(name)!r} must be a share above 0 and at most 1, e.g. 0.25")
    return value


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _http_url(env: Mapping[str, str], name: str) -> str | None:
    url = _optional(env, name)
    if url is not None and not url.startswith(("http://", "https://")):
        raise SettingsError(
            f"{name}={url!r} is not an http(s) URL; e.g. http://localhost:11434/v1 for Ollama"
        )
    return url.rstrip("/") if url else None


def _database_url(env: Mapping[str, str]) -> str:
    url = env.get("HIGHLIGHTS_DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{Path.cwd() / 'highlights.db'}"
    if url.startswith("postgres://"):  # the form Heroku and others hand out
        url = "postgresql://" + url[len("postgres://"):]
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise SettingsError(
            f"HIGHLIGHTS_DATABASE_URL={url!r} is not supported; use sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DB"
        )
    return url


def _storage_url(env: Mapping[str, str]) -> str:
    url = env.get("HIGHLIGHTS_STORAGE_URL", "").strip()
    if not url:
        return str(Path.cwd() / "highlights-data")
    if url.startswith("s3://"):
        if len(url) <= len("s3://") or url[len("s3://"):].startswith("/"):
            raise SettingsError(f"HIGHLIGHTS_STORAGE_URL={url!r} needs a bucket: s3://BUCKET/PREFIX")
        return url
    if url.startswith("file://"):
        url = url[len("file://"):]
    if "://" in url:
        raise SettingsError(
            f"HIGHLIGHTS_STORAGE_URL={url!r} is not supported; use a folder path or s3://BUCKET/PREFIX"
        )
    return str(Path(url).expanduser().resolve())


def _delays(env: Mapping[str, str], name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        values = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a comma-separated list of seconds, e.g. 10,60") from None
    if any(v < 0 for v in values) or len(values) > 10:
        raise SettingsError(f"{name}={raw!r}: give at most 10 non-negative delays")
    return values


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming the first bad variable."""
    env = os.environ if env is None else env
    clip_min = _number(env, "HIGHLIGHTS_CLIP_MIN_SECONDS", 30.0, minimum=1.0)
    clip_max = _number(env, "HIGHLIGHTS_CLIP_MAX_SECONDS", 90.0, minimum=1.0)
    if clip_max < clip_min:
        raise SettingsError(
            f"HIGHLIGHTS_CLIP_MAX_SECONDS={clip_max:g} is shorter than HIGHLIGHTS_CLIP_MIN_SECONDS={clip_min:g}"
        )
    work_dir = Path(env.get("HIGHLIGHTS_WORK_DIR", "") or Path(tempfile.gettempdir()) / "highlights-work")
    return Settings(
        database_url=_database_url(env),
        storage_url=_storage_url(env),
        s3_endpoint_url=_optional(env, "HIGHLIGHTS_S3_ENDPOINT_URL"),
        transcriber=_choice(env, "HIGHLIGHTS_TRANSCRIBER", "local", TRANSCRIBERS),
        analyzer=_choice(env, "HIGHLIGHTS_ANALYZER", "local", ANALYZERS),
        openai_api_key=_optional(env, "OPENAI_API_KEY"),
        openai_base_url=_optional(env, "OPENAI_BASE_URL"),
        openai_model=env.get("HIGHLIGHTS_OPENAI_MODEL", "") or "whisper-1",
        gemini_api_key=_optional(env, "GEMINI_API_KEY") or _optional(env, "GOOGLE_API_KEY"),
        gemini_base_url=_optional(env, "GOOGLE_GEMINI_BASE_URL"),
        gemini_model=env.get("HIGHLIGHTS_GEMINI_MODEL", "") or "gemini-2.5-flash",
        llm_base_url=_http_url(env, "HIGHLIGHTS_LLM_BASE_URL"),
        llm_model=_optional(env, "HIGHLIGHTS_LLM_MODEL"),
        llm_api_key=_optional(env, "HIGHLIGHTS_LLM_API_KEY"),
        # 15 minutes of speech is ~3k tokens of transcript: comfortable for an 8B model
        # with an 8k context, and a failed request costs little.
        llm_window_seconds=_number(env, "HIGHLIGHTS_LLM_WINDOW_SECONDS", 15 * 60.0, minimum=60.0),
        whisper_model=env.get("HIGHLIGHTS_WHISPER_MODEL", "") or "base",
        # 4: 35-40% less CPU time than the sequential decoder on dense speech; larger
        # batches cost the same CPU and more memory (docs/benchmarks.md, "Batched
        # transcription"). Keep in step with transcription.local.DEFAULT_BATCH_SIZE.
        whisper_batch_size=int(_number(env, "HIGHLIGHTS_WHISPER_BATCH_SIZE", 4, integer=True)),
        work_dir=work_dir.expanduser().resolve(),
        max_upload_bytes=int(_number(env, "HIGHLIGHTS_MAX_UPLOAD_BYTES", 20 * 1024**3, integer=True, minimum=1)),
        max_duration_seconds=_number(env, "HIGHLIGHTS_MAX_DURATION_SECONDS", 6 * 3600.0, minimum=1.0),
        clip_count=int(_number(env, "HIGHLIGHTS_CLIP_COUNT", 5, integer=True, minimum=1)),
        clip_min_seconds=clip_min,
        clip_max_seconds=clip_max,
        clip_overrun_seconds=_number(env, "HIGHLIGHTS_CLIP_OVERRUN_SECONDS", 8.0, minimum=0.0),
        clip_share=_share(env, "HIGHLIGHTS_CLIP_SHARE", 0.25),
        clip_count_chosen=bool(env.get("HIGHLIGHTS_CLIP_COUNT", "").strip()),
        clip_max_chosen=bool(env.get("HIGHLIGHTS_CLIP_MAX_SECONDS", "").strip()),
        clip_format=_choice(env, "HIGHLIGHTS_CLIP_FORMAT", "original", CLIP_FORMATS),
        read_slides=_choice(env, "HIGHLIGHTS_SLIDE_TEXT", "on", ("on", "off")) == "on",
        api_token=_optional(env, "HIGHLIGHTS_API_TOKEN"),
        api_auth_disabled=env.get("HIGHLIGHTS_API_AUTH", "").strip().lower() == "disabled",
        retry_delays=_delays(env, "HIGHLIGHTS_RETRY_DELAYS", (10.0, 60.0)),
    )


def validate_provider_keys(settings: Settings) -> None:
    """Fail early when a remote provider is chosen without its key or address."""
    if settings.transcriber == "openai" and not settings.openai_api_key:
        raise SettingsError("HIGHLIGHTS_TRANSCRIBER=openai needs OPENAI_API_KEY")
    if settings.analyzer == "gemini" and not settings.gemini_api_key:
        raise SettingsError("HIGHLIGHTS_ANALYZER=gemini needs GEMINI_API_KEY")
    if settings.analyzer == "openai":
        problem = llm_settings_problem(settings)
        if problem:
            raise SettingsError(problem)


def llm_settings_problem(settings: Settings) -> str | None:
    """What HIGHLIGHTS_ANALYZER=openai is missing, or None. The key is optional: local
    servers such as Ollama take none."""
    missing = [
        name
        for name, value in (
            ("HIGHLIGHTS_LLM_BASE_URL", settings.llm_base_url),
            ("HIGHLIGHTS_LLM_MODEL", settings.llm_model),
        )
        if not value
    ]
    if not missing:
        return None
    return (
        f"HIGHLIGHTS_ANALYZER=openai needs {' and '.join(missing)} (e.g. "
        "HIGHLIGHTS_LLM_BASE_URL=http://localhost:11434/v1 HIGHLIGHTS_LLM_MODEL=llama3.1:8b "
        "for Ollama)"
    )


SETTING_NAMES = tuple(f.name for f in fields(Settings))
