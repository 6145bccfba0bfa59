"""Settings from the environment: defaults, accepted forms, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from highlights.settings import SettingsError, load_settings, validate_provider_keys


def test_defaults_need_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.database_url == f"sqlite:///{tmp_path / 'highlights.db'}"
    assert settings.is_sqlite and not settings.uses_s3
    assert settings.storage_url == str(tmp_path / "highlights-data")
    assert (settings.transcriber, settings.analyzer) == ("local", "local")
    assert (settings.clip_count, settings.clip_min_seconds, settings.clip_max_seconds) == (
        5,
        30,
        90,
    )
    validate_provider_keys(settings)  # local providers need no keys


def test_accepted_forms(tmp_path: Path):
    settings = load_settings(
        {
            "HIGHLIGHTS_DATABASE_URL": "postgres://u:p@db:5432/highlights",
            "HIGHLIGHTS_STORAGE_URL": "s3://bucket/some/prefix",
            "HIGHLIGHTS_S3_ENDPOINT_URL": "http://minio:9000",
            "HIGHLIGHTS_TRANSCRIBER": " OpenAI ",
            "HIGHLIGHTS_CLIP_COUNT": "3",
            "HIGHLIGHTS_WORK_DIR": str(tmp_path / "work"),
        }
    )
    assert settings.database_url == "postgresql://u:p@db:5432/highlights"
    assert settings.uses_s3 and settings.storage_url == "s3://bucket/some/prefix"
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.transcriber == "openai" and settings.clip_count == 3
    assert settings.work_dir == tmp_path / "work"
    local = load_settings({"HIGHLIGHTS_STORAGE_URL": f"file://{tmp_path}/store"})
    assert local.storage_url == str(tmp_path / "store")


BAD = [
    ("HIGHLIGHTS_DATABASE_URL", "mysql://u@h/db", "not supported"),
    ("HIGHLIGHTS_STORAGE_URL", "ftp://host/folder", "not supported"),
    ("HIGHLIGHTS_STORAGE_URL", "s3://", "needs a bucket"),
    ("HIGHLIGHTS_STORAGE_URL", "s3:///prefix-only", "needs a bucket"),
    ("HIGHLIGHTS_TRANSCRIBER", "whisperx", "use one of: local, openai"),
    ("HIGHLIGHTS_ANALYZER", "gpt", "use one of: local, gemini"),
    ("HIGHLIGHTS_CLIP_FORMAT", "square", "use one of"),
    ("HIGHLIGHTS_CLIP_COUNT", "five", "not a whole number"),
    ("HIGHLIGHTS_CLIP_COUNT", "0", "at least 1"),
    ("HIGHLIGHTS_MAX_UPLOAD_BYTES", "1.5", "not a whole number"),
    ("HIGHLIGHTS_MAX_DURATION_SECONDS", "-3", "at least 1"),
    ("HIGHLIGHTS_CLIP_MIN_SECONDS", "soon", "not a number"),
    ("HIGHLIGHTS_CLIP_MAX_SECONDS", "10", "shorter than HIGHLIGHTS_CLIP_MIN_SECONDS"),
    ("HIGHLIGHTS_LLM_BASE_URL", "localhost:11434/v1", "not an http(s) URL"),
    ("HIGHLIGHTS_LLM_WINDOW_SECONDS", "30", "at least 60"),
]


@pytest.mark.parametrize(("name", "value", "reason"), BAD)
def test_a_wrong_value_names_the_variable(name: str, value: str, reason: str):
    with pytest.raises(SettingsError) as error:
        load_settings({name: value})
    message = str(error.value)
    assert message.startswith(name) and reason in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"HIGHLIGHTS_TRANSCRIBER": "openai"}, "OPENAI_API_KEY"),
        ({"HIGHLIGHTS_ANALYZER": "gemini"}, "GEMINI_API_KEY"),
        (
            {"HIGHLIGHTS_ANALYZER": "openai", "HIGHLIGHTS_LLM_BASE_URL": "http://ollama:11434/v1"},
            "HIGHLIGHTS_LLM_MODEL",
        ),
    ],
)
def test_remote_providers_need_their_key(env: dict[str, str], variable: str):
    with pytest.raises(SettingsError, match=variable):
        validate_provider_keys(load_settings(env))
    key_env = {**env, variable: "k"}
    validate_provider_keys(load_settings(key_env))


def test_llm_analyzer_settings():
    settings = load_settings(
        {
            "HIGHLIGHTS_ANALYZER": "openai",
            "HIGHLIGHTS_LLM_BASE_URL": " http://localhost:11434/v1/ ",
            "HIGHLIGHTS_LLM_MODEL": "llama3.1:8b",
        }
    )
    assert settings.analyzer == "openai"
    assert settings.llm_base_url == "http://localhost:11434/v1"
    assert settings.llm_model == "llama3.1:8b"
    assert settings.llm_api_key is None  # optional: local servers take none
    assert settings.llm_window_seconds == 15 * 60
    validate_provider_keys(settings)


def test_clip_share_and_which_clip_defaults_were_chosen():
    defaults = load_settings({})
    assert defaults.clip_share == 0.25
    assert not defaults.clip_count_chosen and not defaults.clip_max_chosen
    chosen = load_settings({"HIGHLIGHTS_CLIP_COUNT": "3", "HIGHLIGHTS_CLIP_MAX_SECONDS": "45",
                            "HIGHLIGHTS_CLIP_SHARE": "1"})
    assert chosen.clip_count_chosen and chosen.clip_max_chosen and chosen.clip_share == 1.0
    for bad in ("0", "1.5", "quarter"):
        with pytest.raises(SettingsError, match="HIGHLIGHTS_CLIP_SHARE"):
            load_settings({"HIGHLIGHTS_CLIP_SHARE": bad})
